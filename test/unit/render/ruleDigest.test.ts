import { describe, expect, it } from "vitest";
import { planDigests } from "../../../src/core/digestPlan.js";
import type { Finding } from "../../../src/core/model.js";
import { BUILT_IN_RULES } from "../../../src/core/rules/catalogue.js";
import { countByRule, reportRules } from "../../../src/core/rules/ruleSet.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { renderAdminSummary, renderDigest } from "../../../src/render/digestEmail.js";

const AS_OF = "2026-12-04";
const ACCOUNT = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct";
const ctx = { asOf: AS_OF, deadline: "2024-02-29", retirementDate: "2024-02-29", rules: reportRules(BUILT_IN_RULES) };

function poolFinding(pool: string, rule: string, deadline: string, extra: Partial<Finding> = {}): Finding {
  const resourceId = `${ACCOUNT}/pools/${pool}`;
  return {
    id: `${rule}:${resourceId.toLowerCase()}`,
    kind: "pool",
    rule,
    deadline,
    severity: "critical",
    resourceId,
    subscriptionId: "s1",
    resourceGroup: "rg",
    accountName: "acct",
    accountId: ACCOUNT,
    poolName: pool,
    detail: "",
    owners: [{ address: "alice@contoso.com", source: 'account tag "owner"' }],
    ...extra,
  };
}

describe("a digest with several rules", () => {
  const findings = [
    poolFinding("render", "windows-server-2016-image", "2027-01-12"),
    poolFinding("render", "d-ds-dv2-dsv2-ls", "2028-05-01", { severity: "warning", deadlineConfirmed: false }),
    poolFinding("build", "windows-server-2016-image", "2027-01-12"),
    poolFinding("ml", "ubuntu-22.04-node-agent", "2027-06-30", { severity: "warning" }),
  ];

  it("lists each pool once per rule, and each rule's steps once, soonest deadline first", async () => {
    const [plan, ...others] = planDigests(findings, new Map(), AS_OF, defaultReminderPolicy("2024-02-29"), []);
    expect(others).toEqual([]);
    const email = await renderDigest(plan!, ctx);
    expect(email.subject).toBe("Action needed: 4 Azure Batch retirement items, 39 days left");
    const text = email.text;
    expect(text).toContain("Pool render · Windows Server 2016 Marketplace images: 39 days left (2027-01-12)");
    expect(text).toContain("Pool render · D, Ds, Dv2, Dsv2 and Ls-series VM sizes: 514 days left (2028-05-01)");
    const start = text.indexOf("== What to do per retirement");
    const sections = text.slice(start, text.indexOf("\n\n", start));
    const headlines = sections.split("\n").filter((l) => /^ {2}\S/.test(l));
    expect(headlines).toEqual([
      "  Windows Server 2016 Marketplace images: 12 January 2027, 39 days left, 2 pools",
      "  Ubuntu 22.04 node agent: 30 June 2027, 208 days left, 1 pool",
      "  D, Ds, Dv2, Dsv2 and Ls-series VM sizes: 1 May 2028, 514 days left (date not confirmed by Azure), 1 pool",
    ]);
    const step = BUILT_IN_RULES.find((r) => r.id === "windows-server-2016-image")!.steps[0]!;
    expect(text.split(step).length - 1).toBe(1);
    expect(email.html.split("Windows Server 2016 Marketplace images: 12 January 2027").length - 1).toBe(1);
    // No certificate items: the intro says nothing about certificates.
    expect(text).not.toContain("retired account certificates");
  });

  it("the admin summary counts findings per rule", async () => {
    const email = await renderAdminSummary(
      { totals: { findings: 4, critical: 2, warning: 2 }, byRule: countByRule(findings, BUILT_IN_RULES), unownedFindings: [], unownedCount: 0, ownerProblems: [], failedScopes: [] },
      ctx,
    );
    expect(email.text).toMatch(/Windows Server 2016 Marketplace images:\s+2 \(windows-server-2016-image\)/);
    expect(email.text).toMatch(/Ubuntu 22\.04 node agent:\s+1 \(ubuntu-22\.04-node-agent\)/);
    expect(email.text).not.toContain("(centos-7)");
  });
});
