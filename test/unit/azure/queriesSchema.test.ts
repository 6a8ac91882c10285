// Validates every Resource Graph query the app sends with Microsoft's own Kusto language service, against the schema
// of the Resource Graph tables, so a typo in src/azure/queries.ts fails here rather than in production.
import { beforeAll, describe, expect, it } from "vitest";
import { ALL_QUERIES } from "../../../src/azure/queries.js";
import { kustoLanguage, toArray, type KustoLanguage } from "@batch-cert-auditor/simulated-azure";
import {
  RESOURCE_GRAPH_COLUMNS,
  RESOURCE_GRAPH_TABLES,
  resourceGraphSchemaText,
} from "@batch-cert-auditor/simulated-azure";

let language: KustoLanguage;
let globals: Kusto.Language.GlobalState;

beforeAll(() => {
  language = kustoLanguage();
  const { ScalarTypes, ColumnSymbol, TableSymbol } = language.Symbols;
  const tables = RESOURCE_GRAPH_TABLES.map((name) => {
    const columns = RESOURCE_GRAPH_COLUMNS.map(
      (c) => new ColumnSymbol(c.name, c.type === "string" ? ScalarTypes.String : ScalarTypes.Dynamic, null, null, null, null),
    );
    return new TableSymbol.$ctor4(name, columns);
  });
  const database = new language.Symbols.DatabaseSymbol.ctor("ResourceGraph", tables);
  // The database must belong to the current cluster before it can become the current database.
  const cluster = new language.Symbols.ClusterSymbol.ctor("resourcegraph", [database]);
  const withDatabase = language.GlobalState.Default?.WithCluster(cluster)?.WithDatabase(database);
  if (withDatabase == null) throw new Error("Kusto.Language could not build a GlobalState");
  globals = withDatabase;
});

function errorsOf(query: string): string[] {
  const code = language.KustoCode.ParseAndAnalyze(query, globals);
  return toArray(code?.GetDiagnostics())
    .filter((d) => d.Severity === "Error")
    .map((d) => `${d.Message} (at ${d.Start})`);
}

describe("the Kusto language service", () => {
  it("reads every Resource Graph column from the shared schema text", () => {
    // Guards the schema text the simulator exports: an unquoted keyword column (kind) would silently truncate it.
    const table = new language.Symbols.TableSymbol.$ctor7("resources", resourceGraphSchemaText(), null);
    expect(toArray(table.Columns).map((c) => c.Name)).toEqual(RESOURCE_GRAPH_COLUMNS.map((c) => c.name));
  });

  it.each(Object.entries(ALL_QUERIES))("finds no errors in %s against the Resource Graph schema", (_name, query) => {
    expect(errorsOf(query)).toEqual([]);
  });

  it("reports an error for a misspelt column", () => {
    const errors = errorsOf("resources | where type =~ 'microsoft.batch/batchaccounts' | project id, nmae");
    expect(errors.join("\n")).toMatch(/nmae/);
  });

  it("reports an error for a misspelt table", () => {
    expect(errorsOf("resourcez | project id").join("\n")).toMatch(/resourcez/);
  });

  it("reports an error for a column used with the wrong case", () => {
    expect(errorsOf("batchresources | project Id")).not.toEqual([]);
  });
});
