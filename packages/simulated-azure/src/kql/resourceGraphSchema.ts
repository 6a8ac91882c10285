// The column schema Azure Resource Graph gives its tables. The simulator checks column references against it (as
// Resource Graph does) and the language-service test validates the app's queries against it, so both share this file.

export type ResourceGraphColumnType = "string" | "dynamic";

export interface ResourceGraphColumn {
  readonly name: string;
  readonly type: ResourceGraphColumnType;
}

/**
 * The columns shared by `resources`, `batchresources`, `resourcecontainers` and `authorizationresources`, in Resource
 * Graph's order (Learn: "Azure Resource Graph table and resource type reference"; authorizationresources holds
 * microsoft.authorization/roleassignments and microsoft.authorization/roledefinitions with the same columns).
 */
export const RESOURCE_GRAPH_COLUMNS: readonly ResourceGraphColumn[] = [
  { name: "id", type: "string" },
  { name: "name", type: "string" },
  { name: "type", type: "string" },
  { name: "tenantId", type: "string" },
  { name: "kind", type: "string" },
  { name: "location", type: "string" },
  { name: "resourceGroup", type: "string" },
  { name: "subscriptionId", type: "string" },
  { name: "managedBy", type: "string" },
  { name: "sku", type: "dynamic" },
  { name: "plan", type: "dynamic" },
  { name: "properties", type: "dynamic" },
  { name: "tags", type: "dynamic" },
  { name: "identity", type: "dynamic" },
  { name: "zones", type: "dynamic" },
  { name: "extendedLocation", type: "dynamic" },
];

/** The tables the simulated Resource Graph serves; all have {@link RESOURCE_GRAPH_COLUMNS}. */
export const RESOURCE_GRAPH_TABLES = ["resources", "batchresources", "resourcecontainers", "authorizationresources"] as const;

export type ResourceGraphTable = (typeof RESOURCE_GRAPH_TABLES)[number];

/**
 * `(['id']:string, ['name']:string, ...)`: the schema text form Kusto.Language's `TableSymbol` accepts. Names are
 * bracket-quoted because `kind` is a KQL keyword, and an unquoted keyword silently ends the parsed column list there.
 */
export function resourceGraphSchemaText(): string {
  return `(${RESOURCE_GRAPH_COLUMNS.map((c) => `['${c.name}']:${c.type}`).join(", ")})`;
}

export function isResourceGraphTable(name: string): name is ResourceGraphTable {
  return (RESOURCE_GRAPH_TABLES as readonly string[]).includes(name.toLowerCase());
}
