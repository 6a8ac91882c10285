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

/** The pool and account a condition is judged on. */
export type PoolOf = Pick<PoolInfo, "facts" | "certificateReferences">;
/** Undefined for a pool whose account is not in the inventory's account list (its properties unknown). */
export type AccountOf = Pick<BatchAccountInfo, "poolAllocationMode" | "location"> | undefined;

/** What a condition reads of one pool in its account. */
function factOf(name: FactName, pool: PoolOf, account: AccountOf): FactValue {
  switch (name) {
    case "certificateReferences":
      return pool.certificateReferences.length;
    case "account.poolAllocationMode":
      return account?.poolAllocationMode;
    case "account.location":
      return account?.location;
    default:
      return pool.facts?.[name];
  }
}

/** Shared between pools and rules: never changed. */
export interface ConditionResult {
  readonly value: boolean | "unknown";
  /** The facts that were not read and left the answer unknown (empty unless `value` is "unknown"). */
  readonly missing: readonly FactName[];
}

type Judge = (pool: PoolOf, account: AccountOf) => ConditionResult;

const NONE_MISSING: readonly FactName[] = Object.freeze([]);
const TRUE: ConditionResult = Object.freeze({ value: true, missing: NONE_MISSING });
const FALSE: ConditionResult = Object.freeze({ value: false, missing: NONE_MISSING });

/**
 * Every pool of a run is judged by every rule, so a condition is made ready once (kept per condition object): its
 * strings lower-cased, its pattern compiled, its known answers shared, and `all`/`any` stop at the first decisive
 * answer (reading a fact has no effect, and a decisive answer wins over unknowns whatever follows).
 */
const judges = new WeakMap<Condition, Judge>();

export function evaluateCondition(condition: Condition, pool: PoolOf, account: AccountOf): ConditionResult {
  return judgeOf(condition)(pool, account);
}

function judgeOf(condition: Condition): Judge {
  let judge = judges.get(condition);
  if (!judge) judges.set(condition, (judge = compile(condition)));
  return judge;
}

function compile(condition: Condition): Judge {
  if ("all" in condition) return combined(condition.all.map(judgeOf), false);
  if ("any" in condition) return combined(condition.any.map(judgeOf), true);
  if ("not" in condition) {
    const inner = judgeOf(condition.not);
    return (pool, account) => {
      const result = inner(pool, account);
      return result.value === "unknown" ? result : result.value ? FALSE : TRUE;
    };
  }
  const { fact } = condition;
  const unknown: ConditionResult = Object.freeze({ value: "unknown", missing: Object.freeze([fact]) });
  const test = valueTest(condition);
  return (pool, account) => {
    const value = factOf(fact, pool, account);
    if (value === undefined) return unknown;
    return test(value) ? TRUE : FALSE;
  };
}

/** `all` (decisive false) or `any` (decisive true): a decisive answer wins over unknowns; otherwise unknown wins. */
function combined(parts: Judge[], decisive: boolean): Judge {
  const win = decisive ? TRUE : FALSE;
  const lose = decisive ? FALSE : TRUE;
  return (pool, account) => {
    let unknown: ConditionResult[] | undefined;
    for (const part of parts) {
      const result = part(pool, account);
      if (result.value === decisive) return win;
      if (result.value === "unknown") (unknown ??= []).push(result);
    }
    if (unknown === undefined) return lose;
    if (unknown.length === 1) return unknown[0] as ConditionResult;
    return { value: "unknown", missing: [...new Set(unknown.flatMap((r) => r.missing))] };
  };
}

/**
 * One fact test as a predicate on a read value. Strings compare case-insensitively; where a number is on either side,
 * both are compared as written (`String`).
 */
function valueTest(test: FactTest): (value: Exclude<FactValue, undefined>) => boolean {
  if (test.present !== undefined) {
    const present = test.present;
    return (value) => (value !== null && !(Array.isArray(value) && value.length === 0)) === present;
  }
  const entryTest = entryTestOf(test);
  return (value) => {
    if (value === null) return false;
    if (!Array.isArray(value)) return entryTest(value);
    for (const entry of value) if (entryTest(entry)) return true;
    return false;
  };
}

function entryTestOf(test: FactTest): (entry: string | number) => boolean {
  if (test.gt !== undefined) {
    const gt = test.gt;
    return (entry) => typeof entry === "number" && entry > gt;
  }
  const candidates = test.equals !== undefined ? [test.equals] : test.in;
  if (candidates !== undefined) {
    // A number entry, or a number candidate, compares as written; two strings compare lower-cased.
    const written = new Set(candidates.map(String));
    const lowered = new Set(candidates.filter((c): c is string => typeof c === "string").map((c) => c.toLowerCase()));
    const numbers = new Set(candidates.filter((c) => typeof c === "number").map(String));
    return (entry) => (typeof entry === "number" ? written.has(String(entry)) : lowered.has(entry.toLowerCase()) || numbers.has(entry));
  }
  if (test.matches !== undefined) {
    // Without the g or y flag a RegExp keeps no state between tests, so one serves every pool.
    const pattern = new RegExp(test.matches, "i");
    return (entry) => typeof entry === "string" && pattern.test(entry);
  }
  return () => false;
}
