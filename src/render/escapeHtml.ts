// One escaping rule for every value that ends up in HTML, whether in text or in a quoted attribute.
// Names, tags and owner addresses come from tenants we do not control, so they are treated as hostile.

const REPLACEMENTS: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  // CR and LF are harmless in text but would survive into attribute values (titles, data-*) and
  // into any header a caller builds from the same string; numeric references keep them visible but inert.
  "\r": "&#13;",
  "\n": "&#10;",
};

// NUL and the other C0 controls (except tab/LF/CR) are parse errors in HTML; they are dropped rather than
// escaped because no legitimate name contains them.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/**
 * Escapes a value for HTML text content or a double- or single-quoted attribute value.
 * `null`/`undefined` become the empty string so optional fields can be passed straight in.
 * Not for unquoted attributes, URLs, inline script or CSS: the report never interpolates into those.
 */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  return String(value)
    .replace(CONTROL, "")
    .replace(/[&<>"'\r\n]/g, (ch) => REPLACEMENTS[ch] ?? ch);
}
