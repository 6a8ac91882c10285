// Kusto's value semantics over the JSON-like values the tables hold (a `dynamic` column is any JSON value).
// Three-valued logic: `null` stands for Kusto's bool(null), which `where` drops like false.

export type KqlBool = boolean | null;

export function isNull(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

function isBag(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `value.key` / `value['key']` / `value[index]` on a dynamic value. Anything that does not resolve is null, as in
 * Kusto; own properties only, so `tags.constructor` is null rather than Object's constructor.
 */
export function getMember(value: unknown, key: unknown): unknown {
  if (typeof key === "string") {
    return isBag(value) && Object.hasOwn(value, key) ? (value[key] ?? null) : null;
  }
  if (typeof key === "number" && Number.isInteger(key) && Array.isArray(value)) {
    // Kusto counts negative indexes from the end.
    const index = key < 0 ? value.length + key : key;
    return index >= 0 && index < value.length ? (value[index] ?? null) : null;
  }
  return null;
}

/** Kusto's `tostring()`: null becomes "", a bag or array its JSON text. */
export function toKqlString(value: unknown): string {
  if (isNull(value)) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === "object") return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

/** `==` as documented for Kusto: null == null is null, null == non-null is false; string equality is case-sensitive. */
export function kqlEquals(a: unknown, b: unknown): KqlBool {
  const aNull = isNull(a);
  const bNull = isNull(b);
  if (aNull && bNull) return null;
  if (aNull || bNull) return false;
  return sameValue(a, b);
}

/** `!=`: null != null is null, null != non-null is true (Kusto's documented null semantics). */
export function kqlNotEquals(a: unknown, b: unknown): KqlBool {
  const equal = kqlEquals(a, b);
  return equal === null ? null : !equal;
}

/** For `<`, `<=`, `>`, `>=`: the sign of a - b, or null when either side is null or they are not comparable. */
export function kqlCompare(a: unknown, b: unknown): number | null {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

function typeRank(value: unknown): number {
  switch (typeof value) {
    case "number":
      return 0;
    case "string":
      return 1;
    case "boolean":
      return 2;
    default:
      return 3;
  }
}

/** A total order over non-null values for `order by`: numbers, then strings (ordinal), then bools, then bags/arrays. */
export function sortCompare(a: unknown, b: unknown): number {
  const rankA = typeRank(a);
  const rankB = typeRank(b);
  if (rankA !== rankB) return rankA - rankB;
  if (rankA === 3) {
    const textA = JSON.stringify(a);
    const textB = JSON.stringify(b);
    return textA < textB ? -1 : textA > textB ? 1 : 0;
  }
  return (a as number | string) < (b as number | string) ? -1 : (a as number | string) > (b as number | string) ? 1 : 0;
}

function isTermChar(code: number): boolean {
  // ASCII letters and digits, and any non-ASCII code unit (treated as a letter): Kusto's terms are alphanumeric runs.
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code > 127;
}

/**
 * `has`: the needle occurs as a whole term, i.e. not glued to further alphanumerics at an edge where the needle itself
 * is alphanumeric. Both arguments must already be case-folded as the caller wants.
 */
export function hasTerm(haystack: string, needle: string): boolean {
  if (needle.length === 0) return true;
  const checkStart = isTermChar(needle.charCodeAt(0));
  const checkEnd = isTermChar(needle.charCodeAt(needle.length - 1));
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const end = at + needle.length;
    const startOk = !checkStart || at === 0 || !isTermChar(haystack.charCodeAt(at - 1));
    const endOk = !checkEnd || end === haystack.length || !isTermChar(haystack.charCodeAt(end));
    if (startOk && endOk) return true;
  }
  return false;
}
