// The condition evaluator is made ready once per condition (lower-cased strings, compiled patterns, shared answers,
// `all`/`any` stopping at the first decisive answer). This holds it to the plain reading of the rules' language,
// written here as the model: every test evaluated, every part combined, strings lower-cased at each comparison.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PoolFacts } from "../../../../src/core/model.js";
import { evaluateCondition, type Condition, type FactName, type FactTest } from "../../../../src/core/rules/condition.js";
import { BUILT_IN_RULES } from "../../../../src/core/rules/catalogue.js";

type Value = string | number | string[] | null | undefined;
interface ModelResult {
  value: boolean | "unknown";
  missing: string[];
}

function model(condition: Condition, read: (name: FactName) => Value): ModelResult {
  if ("all" in condition) return combine(condition.all.map((c) => model(c, read)), false);
  if ("any" in condition) return combine(condition.any.map((c) => model(c, read)), true);
  if ("not" in condition) {
    const inner = model(condition.not, read);
    return inner.value === "unknown" ? inner : { value: !inner.value, missing: [] };
  }
  const value = read(condition.fact);
  if (value === undefined) return { value: "unknown", missing: [condition.fact] };
  return { value: testFact(condition, value), missing: [] };
}

function combine(results: ModelResult[], decisive: boolean): ModelResult {
  if (results.some((r) => r.value === decisive)) return { value: decisive, missing: [] };
  const unknown = results.filter((r) => r.value === "unknown");
  if (unknown.length > 0) return { value: "unknown", missing: [...new Set(unknown.flatMap((r) => r.missing))] };
  return { value: !decisive, missing: [] };
}

function testFact(test: FactTest, value: Exclude<Value, undefined>): boolean {
  if (test.present !== undefined) return (value !== null && !(Array.isArray(value) && value.length === 0)) === test.present;
  if (value === null) return false;
  const entries = Array.isArray(value) ? value : [value];
  return entries.some((entry) => {
    const same = (a: string | number, b: string | number) => (typeof a === "number" || typeof b === "number" ? String(a) === String(b) : a.toLowerCase() === b.toLowerCase());
    if (test.gt !== undefined) return typeof entry === "number" && entry > test.gt;
    if (test.equals !== undefined) return same(entry, test.equals);
    if (test.in !== undefined) return test.in.some((candidate) => same(entry, candidate));
    if (test.matches !== undefined) return typeof entry === "string" && new RegExp(test.matches, "i").test(entry);
    return false;
  });
}

// A few facts of each kind, and values that collide across case and between numbers and strings.
const FACTS = ["imageSku", "vmSize", "targetLowPriorityNodes", "applicationLicenses", "certificateReferences", "account.location"] as const satisfies readonly FactName[];
const WORDS = ["2016-Datacenter", "2016-datacenter", "standard_a1", "STANDARD_A1", "5", "05", "maya", "", "a.b"];
const word = fc.constantFrom(...WORDS);
const scalar = fc.oneof(word, fc.constantFrom(0, 5, 12));
const factTest: fc.Arbitrary<FactTest> = fc.record({ fact: fc.constantFrom(...FACTS) }).chain(({ fact }) =>
  fc.oneof(
    scalar.map((equals) => ({ fact, equals })),
    fc.array(scalar, { minLength: 1, maxLength: 4 }).map((list) => ({ fact, in: list })),
    fc.constantFrom("^2016", "a1$", "\\d+", "MAYA", "^$").map((matches) => ({ fact, matches })),
    fc.constantFrom(0, 4, 11).map((gt) => ({ fact, gt })),
    fc.boolean().map((present) => ({ fact, present })),
  ),
);
const condition: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    factTest,
    fc.array(tie("c"), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie("c"), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
    tie("c").map((not) => ({ not })),
  ),
})).c;
const factValue: fc.Arbitrary<Value> = fc.oneof(fc.constant(undefined), fc.constant(null), scalar, fc.array(word, { maxLength: 3 }));

const poolWith = (values: Partial<Record<(typeof FACTS)[number], Value>>) => ({
  facts: { imageSku: values.imageSku, vmSize: values.vmSize, targetLowPriorityNodes: values.targetLowPriorityNodes, applicationLicenses: values.applicationLicenses } as unknown as PoolFacts,
  certificateReferences: Array.from({ length: typeof values.certificateReferences === "number" ? values.certificateReferences : 0 }, (_, i) => ({ id: `c${i}` })),
});

describe("evaluateCondition", () => {
  it("answers as the plain reading of the condition does, for random conditions and pools", () => {
    const values = fc.record({ imageSku: factValue, vmSize: factValue, targetLowPriorityNodes: factValue, applicationLicenses: factValue, location: factValue, references: fc.nat(3) });
    // One condition over several pools in turn: what it made ready for one (a pattern's state, above all) must not bend the next.
    fc.assert(
      fc.property(condition, fc.array(values, { minLength: 1, maxLength: 4 }), (c, pools) => {
        for (const { references, ...facts } of pools) {
          const pool = poolWith({ ...facts, certificateReferences: references });
          const account = facts.location === undefined ? undefined : { location: facts.location as string };
          const read = (name: FactName): Value =>
            name === "certificateReferences" ? references : name === "account.location" ? account?.location : (pool.facts as Record<string, Value>)[name];
          const got = evaluateCondition(c, pool as never, account as never);
          expect({ value: got.value, missing: [...got.missing] }).toEqual(model(c, read));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("judges a pool again the same way: what it made ready for one pool is not bent by the last", () => {
    const c: Condition = { any: [{ fact: "vmSize", in: ["Standard_A1", 5] }, { fact: "imageSku", matches: "^2016" }] };
    const answers = ["standard_a1", "5", "other", "STANDARD_A1"].map((vmSize) => evaluateCondition(c, { facts: { vmSize }, certificateReferences: [] }, undefined).value);
    expect(answers).toEqual([true, true, "unknown", true]);
    // The pattern, asked of pool after pool, answers each on its own.
    const skus = ["2016-Datacenter", "2016-Datacenter", "2019-Datacenter", "2016-datacenter"].map((imageSku) => evaluateCondition(c, { facts: { vmSize: "other", imageSku }, certificateReferences: [] }, undefined).value);
    expect(skus).toEqual([true, true, false, true]);
  });

  it("gives the catalogue's rules the model's answers on pools made of the values the rules name", () => {
    const named = new Set<string | number>();
    const collect = (c: Condition): void => {
      if ("all" in c) c.all.forEach(collect);
      else if ("any" in c) c.any.forEach(collect);
      else if ("not" in c) collect(c.not);
      else for (const v of [c.equals, ...(c.in ?? [])]) if (v !== undefined) named.add(typeof v === "string" ? v.toUpperCase() : v);
    };
    const poolRules = BUILT_IN_RULES.filter((r) => r.when !== undefined);
    for (const r of poolRules) collect(r.when as Condition);
    const values = [...named];
    let affected = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const facts = { vmSize: v, imagePublisher: v, imageOffer: v, imageSku: v, nodeAgentSkuId: v, cloudServiceOsFamily: v, targetNodeCommunicationMode: v, applicationLicenses: [String(v)] } as unknown as PoolFacts;
      const pool = { facts, certificateReferences: [] };
      const account = { location: "westeurope", poolAllocationMode: "BatchService" };
      const read = (name: FactName): Value => (name === "certificateReferences" ? 0 : name === "account.location" ? account.location : name === "account.poolAllocationMode" ? account.poolAllocationMode : (facts as Record<string, Value>)[name]);
      for (const r of poolRules) {
        const got = evaluateCondition(r.when as Condition, pool, account);
        expect({ value: got.value, missing: [...got.missing] }, `${r.id} on ${String(v)}`).toEqual(model(r.when as Condition, read));
        if (got.value === true) affected++;
      }
    }
    // The values upper-cased still find pools (strings compare case-insensitively).
    expect(affected).toBeGreaterThan(0);
  });
});
