/**
 * Text from files and stores (a scenario's `name`, a lease holder) shown on a terminal: control
 * characters are written as visible escapes (`\x1b`, `\u009b`), so an escape sequence in the
 * data cannot move the cursor, recolour or retitle the user's terminal. Tab and newline pass
 * only where the caller allows them.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_AND_NEWLINES = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One-line text (a name, a holder): every control character, newlines included, made visible. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_AND_NEWLINES, visible);
}

/** Multi-line text (a generated YAML, a message): control characters made visible, tab and newline kept. */
export function escapeControlKeepLines(text: string): string {
  return text.replace(CONTROL, visible);
}
