// Each tenant's ledger in a folder of its own under <out>/.state/tenants, so the demo's simulated tenant never lends its
// findings, reminder histories or "no longer visible" subscriptions to a real tenant's run on the same --out folder.
// The caller holds the state lock on <out>/.state, so nothing else is using these folders while they are arranged.
import { mkdir, readdir, rename } from "node:fs/promises";
import { join } from "node:path";

/** The key of the tenant the signed-in identity audits (one real tenant per --out folder; see the README). */
export const AZURE_TENANT_KEY = "azure";

/** The key of a simulated tenant: its snapshot's tenant id, which no real run has. */
export function simulatedTenantKey(tenantId: string): string {
  return `simulated-${tenantId.replace(/[^A-Za-z0-9-]/g, "_")}`;
}

/** What Azurite writes in its location (its databases and extent folders). */
const AZURITE_ENTRY = /^__(azurite|blobstorage|queuestorage|tablestorage)/;

/**
 * The folder for this tenant's ledger, made if needed. A ledger written before state was kept per tenant (Azurite's
 * files directly in <out>/.state) is moved to the real tenant's folder on its first run, so reminder history is never
 * lost (a simulated run never takes it). `say` gets one line when the folder also keeps other tenants' ledgers.
 */
export async function tenantStateFolder(stateDir: string, key: string, say: (line: string) => void): Promise<string> {
  const tenants = join(stateDir, "tenants");
  const folder = join(tenants, key);
  await mkdir(folder, { recursive: true });
  if (key === AZURE_TENANT_KEY) {
    const legacy = (await readdir(stateDir)).filter((name) => AZURITE_ENTRY.test(name));
    const ownEntries = (await readdir(folder)).filter((name) => AZURITE_ENTRY.test(name));
    if (legacy.length > 0 && ownEntries.length === 0) {
      for (const name of legacy) await rename(join(stateDir, name), join(folder, name));
      say(`batch-cert-auditor: moved the ledger in ${stateDir} (kept before state was per tenant) to ${folder}\n`);
    }
  }
  const others = (await readdir(tenants)).filter((name) => name !== key).sort();
  if (others.length > 0) {
    say(
      `batch-cert-auditor: ${stateDir} also keeps the ledger of ${others.map(describeTenant).join(", ")}; ` +
        `this run reads and writes only that of ${describeTenant(key)}\n`,
    );
  }
  return folder;
}

function describeTenant(key: string): string {
  return key === AZURE_TENANT_KEY ? "the signed-in tenant" : `simulated tenant ${key.slice("simulated-".length)}`;
}
