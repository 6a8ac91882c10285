// The engine: a pool rule's verdict for one pool. It knows no rule by name; everything it needs is in the record.
import { evaluateCondition, type AccountOf, type Condition, type FactName, type PoolOf } from "./condition.js";
import type { RetirementRule } from "./rule.js";

export type Verdict = { status: "affected" } | { status: "not-affected" } | { status: "unknown"; missing: readonly FactName[] };

const AFFECTED: Verdict = Object.freeze({ status: "affected" });
const NOT_AFFECTED: Verdict = Object.freeze({ status: "not-affected" });

export function evaluatePoolRule(rule: RetirementRule, pool: PoolOf, account: AccountOf): Verdict {
  if (rule.target !== "pool" || rule.when === undefined) return NOT_AFFECTED;
  const result = evaluateCondition(rule.when, pool, account);
  if (result.value === "unknown") return { status: "unknown", missing: result.missing };
  return result.value ? AFFECTED : NOT_AFFECTED;
}

/** The fact names a condition reads, each once, in the order written. */
export function factsRead(condition: Condition | undefined): FactName[] {
  if (condition === undefined) return [];
  if ("all" in condition) return [...new Set(condition.all.flatMap(factsRead))];
  if ("any" in condition) return [...new Set(condition.any.flatMap(factsRead))];
  if ("not" in condition) return factsRead(condition.not);
  return [condition.fact];
}

export function readsFact(condition: Condition, fact: FactName): boolean {
  return factsRead(condition).includes(fact);
}
