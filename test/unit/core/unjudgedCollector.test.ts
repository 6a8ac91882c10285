// What the rules could not judge, per rule and account (src/core/ruleReads.ts `unjudgedCollector`): held packed while
// the audit reads, turned into the report's entries once. Held here to a plain model of what it must say.
import { describe, expect, it } from "vitest";
import type { AccountCoverage, UnjudgedRule } from "../../../src/core/model.js";
import { unjudgedCollector } from "../../../src/core/ruleReads.js";
import type { RetirementRule } from "../../../src/core/rules/rule.js";

const rule = (id: string) => ({ id }) as RetirementRule;
// Ids in mixed case (some groups and accounts upper-cased, some not), so that their exact order is not their
// lower-cased order: "RG1/..." sorts before "rg0/..." by UTF-16 unit, after it lower-cased.
const accountId = (n: number) => `/subscriptions/s/resourceGroups/${n % 2 ? "RG" : "rg"}${n % 7}/providers/Microsoft.Batch/batchAccounts/${n % 3 ? "Acct" : "acct"}${n}`;
const coverage = (id: string): AccountCoverage => ({ id, name: id.split("/").pop() as string, subscriptionId: "s", status: "audited", certificates: 0, pools: "not-needed" });

describe("the rules' could-not-judge notes", () => {
  it("says per account (in lower-cased id order) and rule how many pools, with every fact missing, as a plain model does", () => {
    const model = new Map<string, Map<string, { pools: number; missing: Set<string> }>>();
    const collector = unjudgedCollector((id) => coverage(id));
    let seed = 5;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const facts = ["vmSize", "imageSku", "nodeAgentSkuId", "targetNodeCommunicationMode"];
    for (let i = 0; i < 5000; i++) {
      const id = accountId(next(300));
      const r = ["vm-sizes", "images", "node-comm"][next(3)] as string;
      const missing = facts.filter(() => next(2) === 0);
      collector.note(rule(r), id, missing);
      const byRule = model.get(id) ?? new Map();
      model.set(id, byRule);
      const noted = byRule.get(r) ?? { pools: 0, missing: new Set<string>() };
      byRule.set(r, noted);
      noted.pools++;
      for (const m of missing) noted.missing.add(m);
    }
    // Forgotten accounts say nothing.
    for (const n of [3, 30, 299]) {
      collector.forget(accountId(n));
      model.delete(accountId(n));
    }
    const entries = collector.entries();
    // The exact order and the lower-cased one differ for these ids (the check that the test can tell them apart).
    const ids = [...model.keys()];
    expect([...ids].sort()).not.toEqual([...ids].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));
    const expected: Omit<UnjudgedRule, "reason" | "missing">[] = [];
    for (const id of [...model.keys()].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))) {
      const byRule = model.get(id) as Map<string, { pools: number }>;
      for (const r of [...byRule.keys()].sort()) expected.push({ rule: r, accountId: id, pools: byRule.get(r)!.pools });
    }
    expect(entries.map(({ rule: r, accountId: a, pools }) => ({ rule: r, accountId: a, pools }))).toEqual(expected);
    for (const e of entries) {
      expect([...e.missing].sort()).toEqual([...model.get(e.accountId)!.get(e.rule)!.missing].sort());
      expect(e.reason).toContain(e.missing.join(", "));
    }
    // Once: what was noted is let go as it is turned into entries.
    expect(collector.entries()).toEqual([]);
  });

  it("counts past what packs into a small integer: more than a million pools, more than a thousand distinct missing lists", () => {
    const collector = unjudgedCollector(() => undefined);
    const big = accountId(1);
    for (let i = 0; i < 2 ** 20 + 5; i++) collector.note(rule("vm-sizes"), big, ["vmSize"]);
    // 1,100 distinct lists, each on its own account, then one more pool on each.
    for (let i = 0; i < 1100; i++) collector.note(rule("images"), accountId(1000 + i), [`fact${i}`]);
    for (let i = 0; i < 1100; i++) collector.note(rule("images"), accountId(1000 + i), [`fact${i}`, "extra"]);
    const entries = collector.entries();
    expect(entries.find((e) => e.accountId === big)).toMatchObject({ rule: "vm-sizes", pools: 2 ** 20 + 5, missing: ["vmSize"] });
    const last = entries.find((e) => e.accountId === accountId(2099));
    expect(last).toMatchObject({ rule: "images", pools: 2, missing: ["fact1099", "extra"] });
    expect(entries.filter((e) => e.rule === "images").every((e) => e.pools === 2 && e.missing.length === 2)).toBe(true);
  });
});
