import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCliDetailed } from "../../src/cli/runCli.js";
import { NO_LONGER_VISIBLE } from "../../src/core/trackFindings.js";
import { DEMO_TENANT_PATH } from "../support/simulatedAzure.js";

/** The demo tenant as another tenant would be: its own tenant id, and one of the demo's subscriptions not in it. */
function otherTenant(dir: string): { path: string; missing: string } {
  const demo = JSON.parse(readFileSync(fileURLToPath(DEMO_TENANT_PATH), "utf8")) as {
    tenantId: string;
    subscriptions: { subscriptionId: string }[];
    resources: { id: string }[];
    roleAssignments?: { scope?: string; id?: string }[];
  };
  const missing = demo.subscriptions[demo.subscriptions.length - 1]!.subscriptionId;
  const inMissing = (text: string | undefined) => (text ?? "").toLowerCase().includes(missing.toLowerCase());
  const other = {
    ...demo,
    tenantId: "0a1b2c3d-0000-4000-8000-0000000000aa",
    subscriptions: demo.subscriptions.filter((s) => s.subscriptionId !== missing),
    resources: demo.resources.filter((r) => !inMissing(r.id)),
    roleAssignments: (demo.roleAssignments ?? []).filter((a) => !inMissing(a.scope) && !inMissing(a.id)),
  };
  const path = join(dir, "other-tenant.json");
  writeFileSync(path, JSON.stringify(other));
  return { path, missing };
}

async function run(snapshot: string, out: string) {
  let stderr = "";
  const result = await runCliDetailed(
    { simulate: snapshot, out, now: "2026-11-26", sendMode: "dry-run", format: "json", allowIncomplete: true },
    { env: {}, stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) } },
  );
  return { ...result, stderr };
}

describe("the CLI's state, per tenant", () => {
  it("keeps the demo's ledger apart from another tenant's on the same --out folder, and says so in one line", async () => {
    const out = mkdtempSync(join(tmpdir(), "bca-tenants-"));
    const { path, missing } = otherTenant(mkdtempSync(join(tmpdir(), "bca-snapshot-")));

    const demo = await run(fileURLToPath(DEMO_TENANT_PATH), out);
    expect(demo.exitCode).toBe(0);
    expect(demo.report?.coverage.subscriptions.some((s) => s.id === missing)).toBe(true);

    const other = await run(path, out);
    expect(other.exitCode).toBe(0);
    // Nothing of the demo's ledger: its subscription that this tenant lacks is not "no longer visible" here.
    const reasons = (other.report?.coverage.subscriptions ?? []).map((s) => `${s.id} ${"reason" in s ? String(s.reason) : ""}`);
    expect(reasons.join("\n")).not.toContain(NO_LONGER_VISIBLE);
    expect(other.report?.coverage.subscriptions.some((s) => s.id === missing)).toBe(false);
    expect(other.stderr.match(/also keeps the ledger of simulated tenant 72f988bf-0000-4000-8000-00000000c0de/g)).toHaveLength(1);

    // The demo, run again on the folder, hears of the other tenant too.
    const again = await run(fileURLToPath(DEMO_TENANT_PATH), out);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/also keeps the ledger of simulated tenant 0a1b2c3d-0000-4000-8000-0000000000aa/);
  }, 180_000);
});
