import { describe, expect, it } from "vitest";
import type { AccountCertificate, Finding } from "../../../src/core/model.js";
import { planDigests } from "../../../src/core/digestPlan.js";
import { RETIREMENT_DATE } from "../../../src/core/model.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { accountPlan } from "../../../src/render/accountPlan.js";
import { renderDigest } from "../../../src/render/digestEmail.js";

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct";
const where = { subscriptionId: "00000000-0000-0000-0000-000000000001", resourceGroup: "rg", accountName: "acct", accountId: ACCOUNT, detail: "" };

function certFinding(name: string, pools: string[], extra: Partial<AccountCertificate> = {}, severity: Finding["severity"] = pools.length ? "critical" : "warning"): Finding {
  const id = `${ACCOUNT}/certificates/${name}`;
  return {
    ...where,
    id: `account-certificate:${id}`,
    kind: "account-certificate",
    severity,
    resourceId: id,
    certificate: { id, name, accountId: ACCOUNT, thumbprint: name.slice(5), thumbprintAlgorithm: "sha1", provisioningState: "Succeeded", ...extra, referencedByPools: pools },
  };
}

function poolFinding(pool: string, certs: string[], resolves = true): Finding {
  const id = `${ACCOUNT}/pools/${pool}`;
  return {
    ...where,
    id: `pool-certificate-reference:${id}`,
    kind: "pool-certificate-reference",
    severity: "critical",
    resourceId: id,
    poolName: pool,
    references: certs.map((c) => ({ id: `${ACCOUNT}/certificates/${c}`, certificateName: c, resolves })),
  };
}

const texts = (findings: Finding[]) => accountPlan(findings).map((s) => s.text);
const commands = (findings: Finding[]) => accountPlan(findings).flatMap((s) => s.commands ?? []);

describe("the digest's plan for one account", () => {
  it("imports a certificate two pools share once, makes the identity once, replaces each pool naming its certificates, and deletes unused certificates together", () => {
    const findings = [
      poolFinding("p1", ["sha1-aaaa", "sha1-bbbb"]),
      poolFinding("p2", ["sha1-aaaa"]),
      certFinding("sha1-aaaa", ["p1", "p2"]),
      certFinding("sha1-bbbb", ["p1"]),
      certFinding("sha1-cccc", []),
      certFinding("sha1-dddd", []),
    ];
    const all = commands(findings);
    expect(all.filter((c) => c.startsWith("az keyvault certificate import")).map((c) => /--name (\S+)/.exec(c)?.[1])).toEqual(["sha1-aaaa", "sha1-bbbb"]);
    expect(all.filter((c) => c.startsWith("az identity create"))).toHaveLength(1);
    const steps = texts(findings);
    expect(steps).toContain(steps.find((t) => t.startsWith("Replace pool p1 (uses certificates sha1-aaaa, sha1-bbbb)")));
    expect(steps.some((t) => t.startsWith("Replace pool p2 (uses certificate sha1-aaaa)"))).toBe(true);
    expect(steps.filter((t) => t.startsWith("Delete the 2 unused certificates"))).toEqual(["Delete the 2 unused certificates sha1-cccc, sha1-dddd: no pool uses them."]);
    expect(new Set(steps).size).toBe(steps.length);
  });

  it("gives an unreferenced certificate only its delete: no identity, no Key Vault import, no new pool", () => {
    const findings = [certFinding("sha1-cccc", [])];
    expect(texts(findings)).toEqual(["Delete the unused certificate sha1-cccc: no pool uses it."]);
  });

  it("does not tell a dangling reference to import the original PFX from Batch, and deletes nothing for it", () => {
    const steps = texts([poolFinding("p1", ["sha1-eeee"], false)]);
    expect(steps.join("\n")).toMatch(/references certificate sha1-eeee, which this account does not hold: the new pool leaves it out and nothing imports it/);
    expect(steps.join("\n")).not.toMatch(/PFX you uploaded/);
    expect(commands([poolFinding("p1", ["sha1-eeee"], false)]).some((c) => c.includes("/certificates/sha1-eeee"))).toBe(false);
  });

  it("says a deletion blocked by nodes needs those pools replaced first, and that a deletion in progress needs nothing", () => {
    const blocked = certFinding("sha1-ffff", [], {
      provisioningState: "Failed",
      deleteCertificateError: { code: "NodesReferencingCertificate", message: "in use", details: [{ code: "Pool", message: "p9", target: "p9" }] },
    }, "critical");
    const deleting = certFinding("sha1-9999", [], { provisioningState: "Deleting" });
    const steps = texts([blocked, deleting]);
    expect(steps).toContain("Deleting sha1-ffff was refused (NodesReferencingCertificate): still held by p9. Replace or drain those pools first, then delete it again.");
    expect(steps).toContain("Nothing to do for sha1-9999: deletion is in progress, and the audit drops it when it ends.");
    expect(steps.join("\n")).not.toMatch(/unused/);
  });
});

describe("the digest built from the plan", () => {
  it("shows each step once per account and each command as a line of its own, wrapping inside its block", async () => {
    const owner = { address: "owner@contoso.com", source: 'account tag "owner"' };
    const findings = [poolFinding("p1", ["sha1-aaaa"]), poolFinding("p2", ["sha1-aaaa"]), certFinding("sha1-aaaa", ["p1", "p2"]), certFinding("sha1-cccc", [])].map((f) => ({ ...f, owners: [owner] }));
    const [plan] = planDigests(findings, new Map(), "2026-11-26", defaultReminderPolicy(RETIREMENT_DATE), []);
    const { html, text } = await renderDigest(plan!, { asOf: "2026-11-26", deadline: RETIREMENT_DATE, retirementDate: RETIREMENT_DATE });
    expect(text.match(/az identity create/g)).toHaveLength(1);
    expect(text.match(/az keyvault certificate import/g)).toHaveLength(1);
    expect(text.match(/What to do in this account:/g)).toHaveLength(1);
    // The values the commands use are set once, at the top of the account's block.
    expect(text.match(/VAULT='<REPLACE: key vault name>'/g)).toHaveLength(1);
    expect(text.match(/sha1-cccc\?api-version/g)).toHaveLength(1);
    // Each command is a line of its own that wraps inside the block with a hanging indent (the digest's command
    // blocks no longer scroll sideways, where web mail clips them).
    const lineStyles = [...html.matchAll(/<div style="([^"]*white-space:pre-wrap[^"]*)">/g)].map((m) => m[1]);
    expect(lineStyles.length).toBeGreaterThan(0);
    for (const style of lineStyles) {
      expect(style).toMatch(/text-indent:-16px/);
      expect(style).not.toMatch(/word-break:break-all/);
    }
  });
});
