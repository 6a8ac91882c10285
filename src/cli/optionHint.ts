// "Did you mean --quiet?" for a mistyped option: the known option nearest by edit distance, when it is near enough.
import { closest, distance } from "fastest-levenshtein";

/**
 * The hint for node:util parseArgs's unknown-option error (`ERR_PARSE_ARGS_UNKNOWN_OPTION`), or undefined when the
 * error is another one or no option is close: at most a third of the typed name's letters (at least two: a swap) may differ.
 */
export function unknownOptionHint(error: unknown, known: readonly string[]): string | undefined {
  if ((error as { code?: unknown } | undefined)?.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return undefined;
  const typed = /'(-{1,2}[^']+)'/.exec((error as Error).message)?.[1];
  if (!typed || known.length === 0) return undefined;
  const name = typed.replace(/^-+/, "").split("=")[0] ?? "";
  const best = closest(name, [...known]);
  return distance(name, best) <= Math.max(2, Math.ceil(name.length / 3)) ? `Did you mean --${best}?` : undefined;
}
