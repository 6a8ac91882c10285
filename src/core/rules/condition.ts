// The small expression form every pool rule's detector is written in, shipped and custom (RULES_FILE) alike: data,
// never code. Evaluated in three values: a fact the read did not carry (undefined) makes a test "unknown", and
// `all`/`any`/`not` combine them as Kleene logic does, so a detector that could not see what it needs answers
// "unknown", never "not affected", while a pool already ruled out by one known fact is "not affected".
import { z } from "zod";
import type { BatchAccountInfo, PoolFacts, PoolInfo } from "../model.js";

/** The names a condition may test: the pool's facts, its certificate references (count), and two account properties. */
export const FACT_NAMES = [
  "vmSize",
  "imagePublisher",
  "imageOffer",
  "imageSku",
  "imageId",
  "nodeAgentSkuId",
  "cloudServiceOsFamily",
  "targetNodeCommunicationMode",
  "currentNodeCommunicationMode",
  "targetLowPriorityNodes",
  "currentLowPriorityNodes",
  "autoScaleFormula",
  "applicationLicenses",
  "publicIpProvision",
  "location",
  "certificateReferences",
  "account.poolAllocationMode",
  "account.location",
] as const satisfies readonly (keyof PoolFacts | "certificateReferences" | `account.${string}`)[];

export type FactName = (typeof FACT_NAMES)[number];

/**
 * One test of one fact. Strings compare case-insensitively; `matches` is a regular expression (case-insensitive);
 * `gt` compares numbers; `present: true` holds when the fact was read and is not null (for a list: not empty). A
 * list-valued fact (applicationLicenses) passes `equals`/`in`/`matches` when any entry does.
 */
export interface FactTest {
  fact: FactName;
  equals?: string | number;
  in?: (string | number)[];
  matches?: string;
  gt?: number;
  present?: boolean;
}

export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | FactTest;

const factTestSchema = z
  .strictObject({
    fact: z.enum(FACT_NAMES),
    equals: z.union([z.string(), z.number()]).optional(),
    in: z.array(z.union([z.string(), z.number()])).min(1).optional(),
    matches: z
      .string()
      .min(1)
      .refine((pattern) => compiles(pattern), { message: "not a valid regular expression" })
      .optional(),
    gt: z.number().optional(),
    present: z.boolean().optional(),
  })
  .refine((t) => [t.equals, t.in, t.matches, t.gt, t.present].filter((v) => v !== undefined).length === 1, {
    message: "a fact test takes exactly one of equals, in, matches, gt, present",
  });

/** The zod schema of a condition (recursive), for RULES_FILE. */
export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([z.strictObject({ all: z.array(conditionSchema).min(1) }), z.strictObject({ any: z.array(conditionSchema).min(1) }), z.strictObject({ not: conditionSchema }), factTestSchema]),
) as z.ZodType<Condition>;

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, "i");
    return true;
  } catch {
    return false;
  }
}

type FactValue = string | number | string[] | null | undefined;

/** What a condition reads of one pool in its account. */
export function factsOf(pool: Pick<PoolInfo, "facts" | "certificateReferences">, account: Pick<BatchAccountInfo, "poolAllocationMode" | "location"> | undefined): (name: FactName) => FactValue {
  const facts = pool.facts ?? {};
  return (name) => {
    switch (name) {
      case "certificateReferences":
        return pool.certificateReferences.length;
      case "account.poolAllocationMode":
        return account?.poolAllocationMode;
      case "account.location":
        return account?.location;
      default:
        return facts[name];
    }
  };
}

export interface ConditionResult {
  value: boolean | "unknown";
  /** The facts that were not read and left the answer unknown (empty unless `value` is "unknown"). */
  missing: FactName[];
}

export function evaluateCondition(condition: Condition, read: (name: FactName) => FactValue): ConditionResult {
  if ("all" in condition) return combine(condition.all.map((c) => evaluateCondition(c, read)), false);
  if ("any" in condition) return combine(condition.any.map((c) => evaluateCondition(c, read)), true);
  if ("not" in condition) {
    const inner = evaluateCondition(condition.not, read);
    return inner.value === "unknown" ? inner : { value: !inner.value, missing: [] };
  }
  const value = read(condition.fact);
  if (value === undefined) return { value: "unknown", missing: [condition.fact] };
  return { value: testFact(condition, value), missing: [] };
}

/** `all` (decisive false) or `any` (decisive true): a decisive answer wins over unknowns; otherwise unknown wins. */
function combine(results: ConditionResult[], decisive: boolean): ConditionResult {
  if (results.some((r) => r.value === decisive)) return { value: decisive, missing: [] };
  const unknown = results.filter((r) => r.value === "unknown");
  if (unknown.length > 0) return { value: "unknown", missing: [...new Set(unknown.flatMap((r) => r.missing))] };
  return { value: !decisive, missing: [] };
}

function testFact(test: FactTest, value: Exclude<FactValue, undefined>): boolean {
  if (test.present !== undefined) return (value !== null && !(Array.isArray(value) && value.length === 0)) === test.present;
  if (value === null) return false;
  const entries = Array.isArray(value) ? value : [value];
  return entries.some((entry) => {
    if (test.gt !== undefined) return typeof entry === "number" && entry > test.gt;
    if (test.equals !== undefined) return same(entry, test.equals);
    if (test.in !== undefined) return test.in.some((candidate) => same(entry, candidate));
    if (test.matches !== undefined) return typeof entry === "string" && new RegExp(test.matches, "i").test(entry);
    return false;
  });
}

function same(a: string | number, b: string | number): boolean {
  if (typeof a === "number" || typeof b === "number") return String(a) === String(b);
  return a.toLowerCase() === b.toLowerCase();
}
