// The supported subset is spelled out here once, so that every KqlUnsupportedError can name it and the README and
// tests can be checked against the same lists.

export const SUPPORTED_OPERATORS = [
  "where",
  "project",
  "project-away",
  "extend",
  "order by",
  "sort by",
  "take",
  "limit",
  "count",
  "summarize [name =] count() or make_list(x[, n]), ... [by ...]",
] as const;

export const SUPPORTED_SCALAR_OPERATORS = [
  "==", "!=", "<", "<=", ">", ">=", "=~", "!~",
  "and", "or",
  "in", "!in", "in~", "!in~",
  "contains", "!contains", "contains_cs", "!contains_cs",
  "startswith", "!startswith", "startswith_cs", "!startswith_cs",
  "endswith", "!endswith", "endswith_cs", "!endswith_cs",
  "has", "!has", "has_cs", "!has_cs",
  "unary -",
] as const;

export const SUPPORTED_FUNCTIONS = [
  "not", "array_length", "tolower", "toupper", "tostring", "isnull", "isnotnull", "isempty", "isnotempty", "pack_array", "extract",
] as const;

/** Aggregations summarize evaluates. */
export const SUPPORTED_AGGREGATIONS = ["count", "make_list"] as const;

export const SUPPORTED_SUBSET_SUMMARY =
  `Supported: a single tabular expression "<table> | op | op ..." over resources, batchresources or resourcecontainers; ` +
  `operators ${SUPPORTED_OPERATORS.join(", ")}; ` +
  `scalar operators ${SUPPORTED_SCALAR_OPERATORS.join(" ")}; ` +
  `functions ${SUPPORTED_FUNCTIONS.join(", ")}; ` +
  `string, long/int/real and bool literals; columns, a.b, a['b'] and a[0].`;

/**
 * A query the simulated Resource Graph cannot evaluate: outside the supported subset, syntactically invalid, or
 * naming an unknown table or column. Resource Graph answers all of these with HTTP 400, and so does the simulator.
 */
export class KqlUnsupportedError extends Error {
  override readonly name = "KqlUnsupportedError";
}

/** "line 2, column 5" for a 0-based offset into the query text: queries are multi-line, offsets alone are unreadable. */
export function describePosition(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}
