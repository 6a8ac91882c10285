import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AZURE_TENANT_KEY, simulatedTenantKey, tenantStateFolder } from "../../../src/cli/tenantState.js";

function legacyStateDir(): string {
  const state = mkdtempSync(join(tmpdir(), "bca-state-"));
  writeFileSync(join(state, "__azurite_db_table__.json"), "{}");
  mkdirSync(join(state, "__blobstorage__"));
  writeFileSync(join(state, "lock.json"), "{}");
  return state;
}

describe("a tenant's state folder", () => {
  it("moves a ledger kept before state was per tenant to the signed-in tenant's folder, so no reminder history is lost", async () => {
    const state = legacyStateDir();
    const lines: string[] = [];
    const folder = await tenantStateFolder(state, AZURE_TENANT_KEY, (l) => lines.push(l));
    expect(existsSync(join(folder, "__azurite_db_table__.json"))).toBe(true);
    expect(existsSync(join(folder, "__blobstorage__"))).toBe(true);
    expect(existsSync(join(state, "__azurite_db_table__.json"))).toBe(false);
    expect(existsSync(join(state, "lock.json"))).toBe(true);
    expect(lines.join("")).toMatch(/moved the ledger/);
  });

  it("never gives that ledger to a simulated tenant, and names the other tenants' ledgers in one line", async () => {
    const state = legacyStateDir();
    const lines: string[] = [];
    await tenantStateFolder(state, AZURE_TENANT_KEY, () => undefined);
    const folder = await tenantStateFolder(state, simulatedTenantKey("72f988bf-0000-4000-8000-00000000c0de"), (l) => lines.push(l));
    expect(existsSync(join(folder, "__azurite_db_table__.json"))).toBe(false);
    expect(lines).toEqual([expect.stringMatching(/also keeps the ledger of the signed-in tenant; this run reads and writes only that of simulated tenant 72f988bf-/)]);
  });

  it("keeps a snapshot's tenant id from leaving its folder", () => {
    expect(simulatedTenantKey("../../etc")).toBe("simulated-______etc");
  });
});
