// What a digest attaches of its pools' migration kits, and what it says about them: a kit whose files do not fit the
// attachment budget is left out whole (not the kits after it), the message says "attached" only for kits it
// attached, says what the attachments are, and sends the script as .sh.txt (text/plain).
import { describe, expect, it } from "vitest";
import { planDigests } from "../../../src/core/digestPlan.js";
import { buildFindings } from "../../../src/core/findings.js";
import { addMigrationKits } from "../../../src/core/migrationKit.js";
import { RETIREMENT_DATE, type AccountCertificate, type BatchAccountInfo, type PoolInfo } from "../../../src/core/model.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { renderDigest } from "../../../src/render/digestEmail.js";

const ACCOUNT: BatchAccountInfo = {
  id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct",
  name: "acct",
  subscriptionId: "00000000-0000-0000-0000-000000000001",
  resourceGroup: "rg",
  location: "westeurope",
  tags: {},
};
const T = "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334";
const cert: AccountCertificate = { id: `${ACCOUNT.id}/certificates/sha1-${T}`, name: `sha1-${T}`, accountId: ACCOUNT.id, thumbprint: T, thumbprintAlgorithm: "sha1", format: "Pfx" };

function pool(name: string, metadataBytes: number): PoolInfo {
  return {
    id: `${ACCOUNT.id}/pools/${name}`,
    name,
    accountId: ACCOUNT.id,
    accountName: ACCOUNT.name,
    subscriptionId: ACCOUNT.subscriptionId,
    resourceGroup: ACCOUNT.resourceGroup,
    certificateReferences: [{ id: cert.id }],
    configuration: {
      properties: {
        vmSize: "STANDARD_D2S_V3",
        deploymentConfiguration: { virtualMachineConfiguration: { imageReference: { publisher: "canonical", offer: "ubuntu-24_04-lts", sku: "server" }, nodeAgentSkuId: "batch.node.ubuntu 24.04" } },
        scaleSettings: { fixedScale: { targetDedicatedNodes: 1 } },
        metadata: [{ name: "blob", value: "x".repeat(metadataBytes) }],
      },
    },
  };
}

describe("a digest's migration kit attachments", () => {
  it("leaves out a kit too big for the budget, attaches the next, names the attachments, and says 'attached' only for the kit it attached", async () => {
    const pools = [pool("huge", 900_000), pool("small", 10)];
    const certs = new Map([[ACCOUNT.id.toLowerCase(), [cert]]]);
    const owners = [{ address: "owner@contoso.com", source: 'account tag "owner"' }];
    const findings = addMigrationKits(buildFindings({ accounts: [ACCOUNT], certificates: certs, pools, subscriptionNames: new Map() }), pools, certs, {}).map((f) => ({ ...f, owners }));
    const [plan] = planDigests(findings, new Map(), "2026-11-26", defaultReminderPolicy(RETIREMENT_DATE), []);
    const email = await renderDigest(plan!, { asOf: "2026-11-26", deadline: RETIREMENT_DATE, retirementDate: RETIREMENT_DATE });
    expect(email.attachments?.map((a) => [a.name, a.contentType])).toEqual([
      ["acct--small.json", "application/json"],
      ["acct--small.sh.txt", "text/plain"],
    ]);
    expect(email.text).toContain("Attached: a migration kit per pool");
    expect(email.text).toContain("1 pool's kit is not attached (the attachments are full): it is in the audit report.");
    expect(email.text).toContain("kit attached: acct--small.json, acct--small.sh.txt");
    expect(email.text).not.toContain("kit attached: acct--huge.json");
    expect(email.text).toContain("run the attached acct--small.sh.txt");
    expect(email.text).toContain("run its kit's script acct--huge.sh (in the audit report; not attached to this email)");
    expect(email.text).not.toMatch(/attached acct--huge/);
  });
});
