// Shell text made from values we do not control (names read from Azure, tag values, settings). One small function
// instead of a quoting library: POSIX single quotes make every character literal, newlines included (POSIX
// "Shell Command Language", 2.2.2 Single-Quotes), so the only character to handle is the quote itself, closed,
// escaped and reopened as `'\''`. Libraries such as shell-quote choose between quoting styles per value (and have had
// injection bugs in that choice); this has one rule a reviewer can check by eye, and the property test in
// test/unit/core/shellQuote.test.ts runs its output through a real shell.

/** Characters that mean nothing to a shell in an argument: such a value is written bare, anything else quoted. */
const PLAIN = /^[A-Za-z0-9._/:@=+-]+$/;

/** A value as one literal shell word: bare when plainly safe, single-quoted otherwise (empty becomes `''`). */
export function shellQuote(value: string): string {
  return PLAIN.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * As shellQuote, but text that double quotes keep literal (no `$`, backquote, backslash, `"`, `!` or control
 * character) is double-quoted, so a JMESPath query with its own single quotes stays readable.
 */
export function shellQuoteReadable(value: string): string {
  // eslint-disable-next-line no-control-regex
  return PLAIN.test(value) || /[$`\\"!\u0000-\u001f\u007f]/.test(value) ? shellQuote(value) : `"${value}"`;
}

/**
 * Text for a `#` comment line: a comment ends at the first newline, so every control character (newline, carriage
 * return, NUL, ...) and Unicode line or paragraph separator becomes a space and the text stays on its one line.
 */
export function flattenForComment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}

/** A JMESPath raw string literal (`'...'`) holding `value` exactly, for `--query` filters over names. */
export function jmesRawString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
