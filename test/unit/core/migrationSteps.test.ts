// Each certificate kind (a Pfx a pool uses, a Cer a pool uses, one no pool uses, a reference to one the account does
// not hold) with each pool kind (Linux VM, Windows VM, CloudServiceConfiguration): the kit and the digest built for
// it, the steps each says, and that the two say the same commands (they render from src/core/migrationSteps.ts).
import { describe, expect, it } from "vitest";
import { planDigests } from "../../../src/core/digestPlan.js";
import { buildFindings } from "../../../src/core/findings.js";
import { addMigrationKits } from "../../../src/core/migrationKit.js";
import { RETIREMENT_DATE, type AccountCertificate, type BatchAccountInfo, type Finding, type MigrationKit, type PoolInfo } from "../../../src/core/model.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { renderDigest } from "../../../src/render/digestEmail.js";

const ACCOUNT: BatchAccountInfo = {
  id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-kinds/providers/Microsoft.Batch/batchAccounts/kindsbatch",
  name: "kindsbatch",
  subscriptionId: "00000000-0000-0000-0000-000000000001",
  resourceGroup: "rg-kinds",
  location: "westeurope",
  tags: { owner: "owner@contoso.com" },
};
const C = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
const OTHER = "0123456789abcdef0123456789abcdef01234567";
const NAME = `sha1-${C}`;
const certificate = (t: string, format: string): AccountCertificate => ({ id: `${ACCOUNT.id}/certificates/sha1-${t}`, name: `sha1-${t}`, accountId: ACCOUNT.id, thumbprint: t, thumbprintAlgorithm: "sha1", format });

type CertificateKind = "pfx used" | "cer used" | "unreferenced" | "dangling";
type PoolKind = "linux" | "windows" | "cloud";

const DEPLOYMENT: Record<PoolKind, Record<string, unknown>> = {
  linux: { virtualMachineConfiguration: { imageReference: { publisher: "canonical", offer: "ubuntu-24_04-lts", sku: "server" }, nodeAgentSkuId: "batch.node.ubuntu 24.04" } },
  windows: { virtualMachineConfiguration: { imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter" }, nodeAgentSkuId: "batch.node.windows amd64" } },
  cloud: { cloudServiceConfiguration: { osFamily: "5", osVersion: "*" } },
};

/** The account's findings and the pool's kit for one certificate kind on one pool kind. */
function build(kind: CertificateKind, poolKind: PoolKind, deployment = DEPLOYMENT[poolKind]): { findings: Finding[]; kit: MigrationKit } {
  const certificates = kind === "dangling" ? [] : kind === "unreferenced" ? [certificate(C, "Pfx"), certificate(OTHER, "Pfx")] : [certificate(C, kind === "cer used" ? "Cer" : "Pfx")];
  const referenced = kind === "unreferenced" ? `sha1-${OTHER}` : NAME;
  const pool: PoolInfo = {
    id: `${ACCOUNT.id}/pools/work`,
    name: "work",
    accountId: ACCOUNT.id,
    accountName: ACCOUNT.name,
    subscriptionId: ACCOUNT.subscriptionId,
    resourceGroup: ACCOUNT.resourceGroup,
    certificateReferences: [{ id: `${ACCOUNT.id}/certificates/${referenced}`, storeLocation: "CurrentUser", storeName: "My" }],
    configuration: { properties: { vmSize: "STANDARD_D2S_V3", deploymentConfiguration: deployment, scaleSettings: { fixedScale: { targetDedicatedNodes: 1 } } } },
  };
  const certs = new Map([[ACCOUNT.id.toLowerCase(), certificates]]);
  const owners = [{ address: "owner@contoso.com", source: 'account tag "owner"' }];
  const findings = addMigrationKits(buildFindings({ accounts: [ACCOUNT], certificates: certs, pools: [pool], subscriptionNames: new Map() }), [pool], certs, {}).map((f) => ({ ...f, owners }));
  const kit = findings.find((f) => f.migration)?.migration;
  if (!kit) throw new Error("no kit");
  return { findings, kit };
}

async function digestText(findings: Finding[]): Promise<string> {
  const [plan] = planDigests(findings, new Map(), "2026-11-26", defaultReminderPolicy(RETIREMENT_DATE), []);
  return (await renderDigest(plan!, { asOf: "2026-11-26", deadline: RETIREMENT_DATE, retirementDate: RETIREMENT_DATE })).text;
}

interface ExtensionSettings {
  secretsManagementSettings: { observedCertificates: { url: string; certificateStoreLocation: string; certificateStoreName?: string }[] };
  authenticationSettings: { msiEndpoint?: string };
}

function keyVaultExtension(kit: MigrationKit): { type: string; settings: ExtensionSettings } {
  const vmc = (kit.replacementPool!.properties as { deploymentConfiguration: { virtualMachineConfiguration: { extensions: { publisher: string; type: string; settings: ExtensionSettings }[]; imageReference: Record<string, string> } } }).deploymentConfiguration
    .virtualMachineConfiguration;
  return vmc.extensions.find((e) => e.publisher === "Microsoft.Azure.KeyVault")!;
}

const commandsOf = (kit: MigrationKit) => kit.commands.map((c) => c.trim());
const PFX_IMPORT = `az keyvault certificate import --vault-name "$VAULT" --name ${NAME} --file ${NAME}.pfx --password "$PFX_PASSWORD_SHA1_${C.toUpperCase()}"`;
const PEM_READ = `az rest --method get --url 'https://management.azure.com${ACCOUNT.id}/certificates/${NAME}?api-version=2023-11-01' --query properties.publicData -o tsv | openssl base64 -d -A | openssl x509 -inform der -out ${NAME}.pem`;
const PEM_STORE = `az keyvault secret set --vault-name "$VAULT" --name ${NAME} --file ${NAME}.pem --content-type application/x-pem-file`;
const DELETE = `az rest --method delete --url 'https://management.azure.com${ACCOUNT.id}/certificates/${NAME}?api-version=2023-11-01'`;

describe.each(["linux", "windows", "cloud"] as const)("a %s pool", (poolKind) => {
  it("has the extension of its OS, the identity endpoint Linux needs, the LocalMachine store on Windows and an image the extension supports", () => {
    const { kit } = build("pfx used", poolKind);
    const extension = keyVaultExtension(kit);
    const observed = extension.settings.secretsManagementSettings.observedCertificates;
    if (poolKind === "linux") {
      expect(extension.type).toBe("KeyVaultForLinux");
      expect(extension.settings.authenticationSettings.msiEndpoint).toBe("http://169.254.169.254/metadata/identity");
    } else {
      expect(extension.type).toBe("KeyVaultForWindows");
      expect(observed.every((o) => o.certificateStoreLocation === "LocalMachine")).toBe(true);
    }
    if (poolKind === "cloud") {
      const vmc = (kit.replacementPool!.properties as { deploymentConfiguration: { virtualMachineConfiguration: { imageReference: Record<string, string> } } }).deploymentConfiguration.virtualMachineConfiguration;
      expect(vmc.imageReference.sku).toBe("2022-datacenter");
    }
    expect(kit.warnings).toEqual([]);
  });

  it("imports a Pfx the pool uses from its PFX, observes it, deletes it after the pool, and the digest says the same commands", async () => {
    const { findings, kit } = build("pfx used", poolKind);
    const commands = commandsOf(kit);
    expect(commands).toContain(PFX_IMPORT);
    expect(commands.some((c) => c.includes("openssl"))).toBe(false);
    expect(commands).toContain(DELETE);
    expect(keyVaultExtension(kit).settings.secretsManagementSettings.observedCertificates.map((o) => o.url)).toEqual([`https://<REPLACE: key vault name>.vault.azure.net/secrets/${NAME}`]);
    const text = await digestText(findings);
    expect(text).toContain(PFX_IMPORT);
    expect(text).toContain(`PFX_PASSWORD_SHA1_${C.toUpperCase()}='<REPLACE: password of ${NAME}.pfx>'`);
    expect(text).toMatch(/import it from the PFX file you uploaded to Batch/);
    // The kit deletes it (no other pool uses it), so the digest does not a second time.
    expect(text).not.toContain(DELETE);
  });

  it("stores a Cer the pool uses as a PEM secret converted from Batch's DER with openssl, never as a PFX import, and the digest says the same commands", async () => {
    const { findings, kit } = build("cer used", poolKind);
    const commands = commandsOf(kit);
    expect(commands).toEqual(expect.arrayContaining([PEM_READ, PEM_STORE, DELETE]));
    expect(commands.indexOf(PEM_READ)).toBeLessThan(commands.indexOf(DELETE));
    expect(commands.some((c) => c.includes("certificate import"))).toBe(false);
    expect(kit.variables.map((v) => v.name)).not.toContain(`PFX_PASSWORD_SHA1_${C.toUpperCase()}`);
    expect(keyVaultExtension(kit).settings.secretsManagementSettings.observedCertificates.map((o) => o.url)).toEqual([`https://<REPLACE: key vault name>.vault.azure.net/secrets/${NAME}`]);
    const text = await digestText(findings);
    expect(text).toContain(PEM_READ);
    expect(text).toContain(PEM_STORE);
    expect(text).not.toMatch(/certificate import|PFX file/);
  });

  it("leaves a certificate no pool uses out of the kit; the digest deletes it once, in the singular", async () => {
    const { findings, kit } = build("unreferenced", poolKind);
    expect(JSON.stringify(kit.replacementPool)).not.toContain(C);
    expect(commandsOf(kit).some((c) => c.includes(C))).toBe(false);
    const text = await digestText(findings);
    expect(text).toContain(`Delete the unused certificate sha1-${C.slice(0, 8)}…: no pool uses it.`);
    expect(text.split(DELETE)).toHaveLength(2);
    expect(text).not.toContain(`--name ${NAME}`);
  });

  it("neither imports, observes nor deletes a reference to a certificate the account does not hold, and says so in the kit and the digest", async () => {
    const { findings, kit } = build("dangling", poolKind);
    expect(keyVaultExtension(kit).settings.secretsManagementSettings.observedCertificates).toEqual([]);
    expect(commandsOf(kit).filter((c) => !c.startsWith("#") && c.includes(C))).toEqual([]);
    expect(kit.notes.join("\n")).toMatch(/not a certificate of the account, so the replacement does not observe it and nothing imports it/);
    const text = await digestText(findings);
    expect(text).toMatch(/which this account does not hold: the new pool leaves it out and nothing imports it/);
    expect(text).not.toContain(`--name ${NAME}`);
    expect(text).not.toContain(DELETE);
  });

  it("sets the same variables to the same placeholders in the digest as at the top of the kit's script", async () => {
    for (const kind of ["pfx used", "cer used"] as const) {
      const { findings, kit } = build(kind, poolKind);
      const text = await digestText(findings);
      for (const v of kit.variables) expect(text, v.name).toContain(`${v.name}='${v.value}'`);
      expect(text).not.toContain("<your-key-vault>");
    }
  });
});

describe("a pool on an image the Key Vault extension does not support", () => {
  it("warns in the kit and in the digest for Windows Server 2019 and Ubuntu 20.04, not for 2022 or 22.04", async () => {
    const windows2019 = { virtualMachineConfiguration: { imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2019-datacenter" }, nodeAgentSkuId: "batch.node.windows amd64" } };
    const ubuntu2004 = { virtualMachineConfiguration: { imageReference: { publisher: "canonical", offer: "0001-com-ubuntu-server-focal", sku: "20_04-lts" }, nodeAgentSkuId: "batch.node.ubuntu 20.04" } };
    const ubuntu2204 = { virtualMachineConfiguration: { imageReference: { publisher: "canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts" }, nodeAgentSkuId: "batch.node.ubuntu 22.04" } };
    for (const deployment of [windows2019, ubuntu2004]) {
      const { findings, kit } = build("pfx used", "windows", deployment);
      expect(kit.warnings.join("\n")).toMatch(/is not one the Key Vault extension supports/);
      expect(await digestText(findings)).toMatch(/Warning: The pool's image .* is not one the Key Vault extension supports/);
    }
    expect(build("pfx used", "linux", ubuntu2204).kit.warnings).toEqual([]);
  });
});
