import { describe, expect, it } from 'vitest';
import { codeBlock, codeSpan, escapeMarkdown, escapeXml, mermaidText, shellQuote, table } from '../../../sim/report/markdown.js';

describe('escapeMarkdown', () => {
  it('escapes a hostile scenario name', () => {
    expect(escapeMarkdown('a|b*c<script>')).toBe('a\\|b\\*c&lt;script&gt;');
  });

  it('escapes every character that is markup', () => {
    expect(escapeMarkdown('_x_ `y` [l](u) ~z~ #h !i \\ & <>')).toBe(
      '\\_x\\_ \\`y\\` \\[l\\](u) \\~z\\~ \\#h \\!i \\\\ &amp; &lt;&gt;',
    );
  });

  it('keeps a value on one line', () => {
    expect(escapeMarkdown('one\ntwo\r\nthree\u2028four')).toBe('one two three four');
  });

  it('leaves plain text alone', () => {
    expect(escapeMarkdown('watchdog-loop:never-stopped 5.979/h (p95)')).toBe('watchdog-loop:never-stopped 5.979/h (p95)');
  });

  it('cannot break out of a table cell or open a tag', () => {
    const row = table(['a', 'b'], [[escapeMarkdown('x | y'), escapeMarkdown('<img src=x onerror=alert(1)>')]]);
    const cells = row.split('\n')[2]?.split(/(?<!\\)\|/).filter((c) => c.trim() !== '');
    expect(cells).toHaveLength(2);
    expect(row).not.toMatch(/<img/);
  });
});

describe('codeSpan and codeBlock', () => {
  it('fences a code span longer than any backtick run inside', () => {
    expect(codeSpan('plain')).toBe('`plain`');
    expect(codeSpan('a`b')).toBe('``a`b``');
    expect(codeSpan('`x`')).toBe('`` `x` ``');
    expect(codeSpan('a|b')).toBe('`a\\|b`');
    expect(codeSpan('a\nb')).toBe('`a b`');
  });

  it('fences a code block longer than any backtick run inside', () => {
    expect(codeBlock('x', 'sh')).toBe('```sh\nx\n```');
    expect(codeBlock('```\nboom\n```', 'sh')).toBe('````sh\n```\nboom\n```\n````');
  });
});

describe('mermaidText', () => {
  it('leaves nothing mermaid reads as syntax', () => {
    const out = mermaidText('a;b#c%%d<e>f&g"h\'i`j{k}l[m]n|o\\p\nq');
    expect(out.replace(/#\d+;/g, '')).not.toMatch(/[#;%<>&"'`{}[\]|\\\n]/);
    expect(out).toContain('#59;');
    expect(out).toContain('#35;');
    expect(out).toBe('a#59;b#35;c#37;#37;d#60;e#62;f#38;g#34;h#39;i#96;j#123;k#125;l#91;m#93;n#124;o#92;p q');
  });

  it('breaks up arrow syntax', () => {
    expect(mermaidText('a-->>b')).not.toContain('--');
    expect(mermaidText('a->b')).toBe('a-#62;b');
  });

  it('keeps ordinary message text readable', () => {
    expect(mermaidText('last heartbeat: renew ok, token 1 (t=7m00.0s)')).toBe('last heartbeat: renew ok, token 1 (t=7m00.0s)');
  });
});

describe('escapeXml and shellQuote', () => {
  it('escapes XML text and attributes', () => {
    expect(escapeXml('a<b>&"c\'\u0001')).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });

  it('quotes shell words only when needed', () => {
    expect(shellQuote('scenarios/idle.yaml')).toBe('scenarios/idle.yaml');
    expect(shellQuote('my file.yaml')).toBe("'my file.yaml'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('a\nb')).toBe("$'a\\x0ab'");
    expect(shellQuote('')).toBe("''");
  });
});
