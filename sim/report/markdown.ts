/**
 * Escaping and building blocks for the generated markdown report. Every string that a scenario
 * file controls (scenario and strategy names, file paths) goes through one of these before it
 * reaches markdown, a mermaid diagram, a shell command or the SVG.
 */

/** Characters that change meaning in inline markdown (GFM), each escaped with a backslash. */
const MARKDOWN_SPECIAL = /[\\`*_[\]|~#!]/g;

/**
 * Inline markdown text that renders literally, also inside a table cell: escapes `\`, `` ` ``,
 * `*`, `_`, `[`, `]`, `|`, `~`, `#`, `!` with a backslash, writes `&`, `<`, `>` as entities, and
 * turns line breaks (and other control characters) into spaces so a value stays on one line.
 */
export function escapeMarkdown(text: string): string {
  return (
    text
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(MARKDOWN_SPECIAL, (c) => `\\${c}`)
  );
}

/**
 * A code span holding `text` literally: the fence is one backtick longer than the longest run
 * inside, and padded with spaces when the text starts or ends with a backtick. `|` is escaped
 * (GFM tables split cells on it even inside code spans, so this is for table cells and for
 * identifiers without `|`) and line breaks become spaces.
 */
export function codeSpan(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\|/g, '\\|');
  const fence = '`'.repeat(longestRun(flat, '`') + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced code block whose fence is longer than any backtick run inside `content`. */
export function codeBlock(content: string, lang = ''): string {
  const fence = '`'.repeat(Math.max(3, longestRun(content, '`') + 1));
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return `${fence}${lang}\n${body}${fence}`;
}

function longestRun(text: string, char: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/**
 * Text safe inside a mermaid `sequenceDiagram` message, note or participant label. Mermaid ends
 * a statement at `;`, a line break or `#`, starts comments with `%%`, and reads `<`, `>`, `&`,
 * quotes, backticks, brackets, braces, `|` and `\\` specially in places; all of these become mermaid
 * entity codes (`#59;`), control characters become spaces, and a run of `-` or `+` (arrow and
 * activation syntax) is broken up.
 */
export function mermaidText(text: string): string {
  return (
    text
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
      .replace(/[#;%<>&"'`{}[\]|\\]/g, (c) => `#${c.charCodeAt(0)};`)
      .replace(/([-+])(?=[-+])/g, '$1 ')
      .trim()
  );
}

/** XML text or attribute content (SVG). Drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return (
    text
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/**
 * One POSIX shell word: bare when it has only safe characters, else single-quoted; a word with
 * control characters uses `$'…'` so the command stays on one line.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  if (/[\u0000-\u001f\u007f]/.test(word)) {
    const body = word.replace(/[\\']/g, (c) => `\\${c}`).replace(
      /[\u0000-\u001f\u007f]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
    return `$'${body}'`;
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export type Align = 'left' | 'right' | 'center';

/**
 * A GFM table. Cells are inserted as given: callers escape text with {@link escapeMarkdown} (or
 * build cells from fixed text and numbers).
 */
export function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, align: readonly Align[] = []): string {
  const rule = head.map((_, i) => {
    const a = align[i] ?? 'left';
    return a === 'right' ? '---:' : a === 'center' ? ':---:' : '---';
  });
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(rule), ...rows.map(line)].join('\n');
}
