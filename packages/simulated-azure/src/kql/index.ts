// The KQL engine of the simulated Azure Resource Graph: evaluates the subset of KQL listed in README.md over in-memory
// tables. Parsing is done by Microsoft's Kusto.Language (see compile.ts for why), evaluation by our own closures.
import { compileKql, type CompiledQuery, type Row } from "./compile.js";
import { KqlUnsupportedError } from "./errors.js";

export type { Row } from "./compile.js";
export {
  KqlUnsupportedError,
  SUPPORTED_FUNCTIONS,
  SUPPORTED_OPERATORS,
  SUPPORTED_SCALAR_OPERATORS,
  SUPPORTED_SUBSET_SUMMARY,
} from "./errors.js";
export { RESOURCE_GRAPH_COLUMNS, RESOURCE_GRAPH_TABLES, resourceGraphSchemaText } from "./resourceGraphSchema.js";

// The app sends a handful of fixed query texts, so a small cache holds every one of them; the bound only stops a
// client sending ever-new texts from growing it without limit.
const CACHE_LIMIT = 256;
const compiledQueries = new Map<string, CompiledQuery>();

function compiled(query: string): CompiledQuery {
  const cached = compiledQueries.get(query);
  if (cached !== undefined) return cached;
  const fresh = compileKql(query);
  if (compiledQueries.size >= CACHE_LIMIT) {
    const oldest = compiledQueries.keys().next();
    if (oldest.done !== true) compiledQueries.delete(oldest.value);
  }
  compiledQueries.set(query, fresh);
  return fresh;
}

/**
 * Evaluates `query` over `tables` (table names match case-insensitively, as in Resource Graph) and returns the result
 * rows. Rows are not copied unless an operator builds new ones, so dynamic values may be shared with the input.
 * @throws KqlUnsupportedError for syntax errors, unknown tables or columns and anything outside the supported subset.
 */
export function executeKql(query: string, tables: Record<string, readonly Row[]>): Row[] {
  const { table, stages } = compiled(query);
  const wanted = table.toLowerCase();
  const tableName = Object.keys(tables).find((name) => name.toLowerCase() === wanted);
  const rows = tableName === undefined ? undefined : tables[tableName];
  if (rows === undefined) {
    throw new KqlUnsupportedError(
      `Unknown table '${table}'. The simulated Resource Graph has the tables: ${Object.keys(tables).join(", ")}.`,
    );
  }
  let current: readonly Row[] = rows;
  for (const stage of stages) current = stage(current);
  return current === rows ? [...rows] : (current as Row[]);
}
