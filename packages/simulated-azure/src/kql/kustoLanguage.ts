/// <reference types="@kusto/language-service-next" />
// Loads Microsoft's Kusto.Language (the official KQL parser and analyzer, compiled to JavaScript by Bridge.NET).
// The package is a pair of CommonJS scripts that install `Bridge`, `System` and `Kusto` on the global object instead of
// exporting anything, so it is required (not imported) and only on first use: loading costs ~0.5 s, the first parse
// another ~0.4 s, and code that never evaluates KQL should not pay for that.
import { createRequire } from "node:module";

export type KustoLanguage = typeof Kusto.Language;

let language: KustoLanguage | undefined;

export function kustoLanguage(): KustoLanguage {
  if (language !== undefined) return language;
  const global = globalThis as { Kusto?: typeof Kusto };
  // Another module instance in this process (e.g. a re-evaluated test module) may have loaded it already; loading the
  // scripts twice would redefine every Bridge class.
  if (global.Kusto === undefined) {
    const require = createRequire(import.meta.url);
    require("@kusto/language-service-next/bridge.min.js");
    require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
  }
  if (global.Kusto === undefined) throw new Error("@kusto/language-service-next did not define the global Kusto namespace");
  language = global.Kusto.Language;
  return language;
}

/** Copies a Bridge `IReadOnlyList` (which has `Count` and `getItem`, not a JavaScript iterator) into an array. */
export function toArray<T>(list: System.Collections.Generic.IReadOnlyList$1<T> | null | undefined): T[] {
  const items: T[] = [];
  if (list == null) return items;
  for (let i = 0; i < list.Count; i++) items.push(list.getItem(i));
  return items;
}
