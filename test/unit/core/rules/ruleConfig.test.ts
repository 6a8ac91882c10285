import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../../src/config.js";
import { buildFindings } from "../../../../src/core/findings.js";
import type { BatchAccountInfo } from "../../../../src/core/model.js";
import { selectRules } from "../../../../src/core/rules/ruleSet.js";

const dir = mkdtempSync(join(tmpdir(), "rules-"));
function rulesFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const CUSTOM = {
  rules: [
    {
      id: "x-series-2016",
      title: "X-series on Windows Server 2016",
      deadline: "2026-12-20",
      severity: "critical",
      when: { all: [{ fact: "vmSize", in: ["Standard_X"] }, { fact: "imageSku", matches: "^2016-" }] },
      steps: ["Move to Standard_Y on Windows Server 2022."],
      guideUrl: "https://contoso.example/wiki/x-series",
    },
  ],
};

const ACCOUNT: BatchAccountInfo = { id: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a", name: "a", subscriptionId: "s1", resourceGroup: "rg", location: "westeurope", tags: {} };
const POOL = { id: `${ACCOUNT.id}/pools/p`, name: "p", accountId: ACCOUNT.id, subscriptionId: "s1", resourceGroup: "rg", accountName: "a", certificateReferences: [] };

describe("rule configuration", () => {
  it("runs every shipped rule by default", () => {
    const { rules } = loadConfig({});
    expect(rules.enabled.map((r) => r.id)).toContain("windows-server-2016-image");
    expect(rules.enabled).toHaveLength(rules.ids.length);
  });

  it("switches rules off with RULES_DISABLED and moves a deadline with RULE_DEADLINES (an internal date earlier than Azure's)", () => {
    const { rules } = loadConfig({ RULES_DISABLED: "low-priority-nodes, ubuntu-22.04-node-agent", RULE_DEADLINES: "windows-server-2016-image=2026-12-15,ncv3=2026-12-10" });
    expect(rules.enabled.map((r) => r.id)).not.toContain("low-priority-nodes");
    expect(rules.enabled.map((r) => r.id)).not.toContain("ubuntu-22.04-node-agent");
    const ws = rules.enabled.find((r) => r.id === "windows-server-2016-image");
    expect([ws?.deadline, ws?.deadlineSource, ws?.deadlineConfirmed]).toEqual(["2026-12-15", "configuration", true]);
    // The override wins over Azure's date for a VM size too.
    const [f] = buildFindings({
      accounts: [ACCOUNT],
      certificates: new Map(),
      pools: [{ ...POOL, facts: { vmSize: "Standard_NC6s_v3" } }],
      subscriptionNames: new Map(),
      rules: rules.enabled,
      asOf: "2026-12-04",
      vmSizeEndOfLife: new Map([["westeurope", new Map([["standard_nc6s_v3", "2027-03-31"]])]]),
    });
    expect([f?.rule, f?.deadline, f?.daysLeft, f?.deadlineSource]).toEqual(["ncv3", "2026-12-10", 6, "configuration"]);
  });

  it("MIGRATION_DEADLINE moves the certificate rules, and RULE_DEADLINES wins over it", () => {
    const { rules } = loadConfig({ MIGRATION_DEADLINE: "2027-03-31", RULE_DEADLINES: "account-certificate=2027-01-31" });
    expect(rules.enabled.filter((r) => r.id.includes("certificate")).map((r) => [r.id, r.deadline])).toEqual([
      ["account-certificate", "2027-01-31"],
      ["pool-certificate-reference", "2027-03-31"],
    ]);
  });

  it("refuses unknown rule ids and bad dates, naming the setting and listing the rules", () => {
    expect(() => loadConfig({ RULES_DISABLED: "windows-2016", RULE_DEADLINES: "ncv3=soon" })).toThrow(/RULE_DEADLINES: must be a comma-separated list of <rule id>=YYYY-MM-DD \(got "ncv3=soon"\)/);
    expect(() => loadConfig({ RULES_DISABLED: "windows-2016" })).toThrow(/RULES_DISABLED: unknown rule "windows-2016"; the rules are: account-certificate, .*windows-server-2016-image/);
  });

  it("adds RULES_FILE's rules, which find pools by their facts and may be switched off or filtered like any other", () => {
    const { rules } = loadConfig({ RULES_FILE: rulesFile("ok.json", CUSTOM), RULE_DEADLINES: "x-series-2016=2026-12-18" });
    const custom = rules.enabled.find((r) => r.id === "x-series-2016");
    expect([custom?.custom, custom?.deadline, custom?.sources]).toEqual([true, "2026-12-18", ["https://contoso.example/wiki/x-series"]]);
    const pools = [
      { ...POOL, facts: { vmSize: "standard_x", imageSku: "2016-Datacenter" } },
      { ...POOL, id: `${POOL.id}2`, name: "p2", facts: { vmSize: "standard_x", imageSku: "2022-datacenter" } },
    ];
    const findings = buildFindings({ accounts: [ACCOUNT], certificates: new Map(), pools, subscriptionNames: new Map(), rules: selectRules(rules.enabled, ["X-Series-2016"]), asOf: "2026-12-04" });
    expect(findings.map((f) => [f.rule, f.poolName, f.daysLeft])).toEqual([["x-series-2016", "p", 14]]);
    expect(loadConfig({ RULES_FILE: rulesFile("ok2.json", CUSTOM), RULES_DISABLED: "x-series-2016" }).rules.enabled.map((r) => r.id)).not.toContain("x-series-2016");
  });

  it("refuses a bad RULES_FILE with the file's path and each problem's JSON pointer, and runs nothing from it", () => {
    const bad = rulesFile("bad.json", {
      rules: [
        { ...CUSTOM.rules[0], id: "windows-server-2016-image" },
        { ...CUSTOM.rules[0], id: "y", deadline: "2026-02-30", when: { all: [{ fact: "vmSize", matches: "(" }, { fact: "process.env", equals: "x" }] }, guideUrl: "javascript:alert(1)" },
      ],
    });
    let message = "";
    try {
      loadConfig({ RULES_FILE: bad });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`RULES_FILE: ${bad}: /rules/1/deadline: must be a date as YYYY-MM-DD`);
    expect(message).toContain(`RULES_FILE: ${bad}: /rules/1/guideUrl: must be an https:// URL`);
    expect(message).toMatch(/\/rules\/1\/when/);
    const duplicate = rulesFile("dup.json", { rules: [{ ...CUSTOM.rules[0], id: "windows-server-2016-image" }] });
    expect(() => loadConfig({ RULES_FILE: duplicate })).toThrow(`RULES_FILE: ${duplicate}: /rules/0/id: "windows-server-2016-image" is already a rule id`);
    expect(() => loadConfig({ RULES_FILE: rulesFile("notjson.json", "{ rules: ") })).toThrow(/RULES_FILE: .*notjson\.json: .*JSON/);
    expect(() => loadConfig({ RULES_FILE: join(dir, "missing.json") })).toThrow(/RULES_FILE: .*missing\.json: ENOENT/);
  });
});
