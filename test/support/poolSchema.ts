// The 2024-07-01 pool contract (excerpt in test/fixtures, with its source) as a validator for generated PUT bodies.
// ajv 6 is in node_modules through eslint, not a declared dependency of this project: it reads the excerpt, which is
// JSON schema (Swagger 2.0 definitions), as it is.
import { readFileSync } from "node:fs";
import Ajv from "ajv";

const schemaFile = new URL("../fixtures/batch-pool-2024-07-01.schema.json", import.meta.url);
const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as { definitions: Record<string, Record<string, unknown>> };

/** Stricter than the spec: a property the contract does not name is an error (a misspelt key would pass Azure's schema). */
function strict(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(strict);
  if (!node || typeof node !== "object") return;
  const obj = node as Record<string, unknown>;
  if (obj.properties && typeof obj.properties === "object" && obj.additionalProperties === undefined && !obj.allOf) obj.additionalProperties = false;
  for (const [key, value] of Object.entries(obj)) if (key !== "properties") strict(value);
  if (obj.properties && typeof obj.properties === "object") for (const value of Object.values(obj.properties)) strict(value);
}

const strictSchema = structuredClone(schema);
// The ARM envelope (id, name, type, etag) comes in through allOf: left open, the body never carries it.
for (const [name, def] of Object.entries(strictSchema.definitions)) if (name !== "AzureProxyResource") strict(def);
const validate = new Ajv({ allErrors: true, unknownFormats: "ignore", logger: false }).compile(strictSchema);

/** The schema errors of a pool PUT body; empty when it validates. */
export function poolSchemaErrors(body: unknown): unknown[] {
  return validate(body) ? [] : [...(validate.errors ?? [])];
}
