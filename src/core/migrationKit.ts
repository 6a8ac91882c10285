// The migration kit: for a pool that references account certificates, the body of the pool that replaces it
// (`PUT .../batchAccounts/{account}/pools/{newPool}?api-version=2024-07-01`) and the az CLI steps to move to it.
//
// Sources: the 2024-07-01 pool contract (azure-rest-api-specs specification/batch/resource-manager/Microsoft.Batch/
// stable/2024-07-01/BatchManagement.json, definitions PoolProperties and below; an excerpt ships as
// test/fixtures/batch-pool-2024-07-01.schema.json); Learn "Use extensions with Batch pools" (create-pool-extensions:
// pools need a VirtualMachineConfiguration; extensions cannot be added to an existing pool, so it is recreated);
// Learn "Key Vault virtual machine extension for Windows" / "... for Linux" (key-vault-windows, key-vault-linux:
// publisher Microsoft.Azure.KeyVault, types KeyVaultForWindows / KeyVaultForLinux, version 3.0 takes per-certificate
// settings in `observedCertificates`, `authenticationSettings.msiClientId` names the user-assigned identity, and the
// identity needs "Key Vault Secrets User" on the vault); Learn "Enable automatic certificate rotation in a Batch pool"
// (automatic-certificate-rotation: the pool's user-assigned identity, observed certificates by secret URL).
// Pure: no I/O. Values Azure never returns (passwords, keys) are left as named placeholders, never guessed.
import { certificateNameOf } from "./certificateReference.js";
import type { AccountCertificate, Finding, MigrationKit, PoolConfiguration, PoolInfo } from "./model.js";

export const REPLACEMENT_API_VERSION = "2024-07-01";
/** The api-version the auditor reads certificates at (the last with certificate operations); deletes use it too. */
const CERTIFICATE_API_VERSION = "2023-11-01";
export const KEY_VAULT_EXTENSION = { publisher: "Microsoft.Azure.KeyVault", typeHandlerVersion: "3.0", windows: "KeyVaultForWindows", linux: "KeyVaultForLinux" } as const;
/** Key Vault extension for Linux: default certificate folder (Learn key-vault-linux, "certificateStoreLocation"). */
export const LINUX_CERTIFICATE_FOLDER = "/var/lib/waagent/Microsoft.Azure.KeyVault.Store";

export interface MigrationSettings {
  identityId?: string | undefined;
  identityClientId?: string | undefined;
  keyVaultName?: string | undefined;
}

/** A value the owner must supply; one spelling everywhere so it can be searched for. */
export function placeholder(what: string): string {
  return `<REPLACE: ${what}>`;
}

const IDENTITY_ID = placeholder("resource id of a user-assigned managed identity");
const IDENTITY_CLIENT_ID = placeholder("client id of that identity");
const VAULT = placeholder("key vault name");

/** Windows Server marketplace images for the retired CloudServiceConfiguration osFamily values (Learn: "Guest OS families"). */
const OS_FAMILY_SKUS: Record<string, { sku: string; version: string }> = {
  "2": { sku: "2008-R2-SP1", version: "Windows Server 2008 R2 SP1" },
  "3": { sku: "2012-Datacenter", version: "Windows Server 2012" },
  "4": { sku: "2012-R2-Datacenter", version: "Windows Server 2012 R2" },
  "5": { sku: "2016-Datacenter", version: "Windows Server 2016" },
  "6": { sku: "2019-Datacenter", version: "Windows Server 2019" },
  "7": { sku: "2022-Datacenter", version: "Windows Server 2022" },
};

/** Writable PoolProperties of 2024-07-01 carried over as they are (read-only state and `certificates` are not). */
const CARRIED = [
  "displayName",
  "vmSize",
  "scaleSettings",
  "interNodeCommunication",
  "networkConfiguration",
  "taskSlotsPerNode",
  "taskSchedulingPolicy",
  "metadata",
  "applicationPackages",
  "applicationLicenses",
  "targetNodeCommunicationMode",
  "upgradePolicy",
  "resourceTags",
] as const;

export interface MigrationInput {
  finding: Finding;
  pool: PoolInfo | undefined;
  /** The account's certificates, when read (formats decide the import step). */
  certificates: readonly AccountCertificate[] | "unknown";
  settings: MigrationSettings;
  /** File names already taken in this run (lower case); the kit's is added. */
  takenFileNames?: Set<string>;
}

export function buildMigrationKit(input: MigrationInput): MigrationKit {
  const { finding, pool, settings } = input;
  const poolName = finding.poolName ?? pool?.name ?? "pool";
  const replacementPoolName = replacementName(poolName);
  const fileName = uniqueFileName(`${finding.accountName}--${poolName}`, input.takenFileNames);
  const certs = input.certificates === "unknown" ? undefined : new Map(input.certificates.map((c) => [c.name.toLowerCase(), c]));
  const observed = distinctReferences(finding, certs);
  const notes: string[] = [];
  const placeholders = new Set<string>();
  const vault = settings.keyVaultName ?? VAULT;
  if (!settings.keyVaultName) placeholders.add(VAULT);

  const configuration = pool?.configuration;
  let os: MigrationKit["os"] = "unknown";
  let unavailable: string | undefined;
  if (!configuration) {
    unavailable =
      "The pool's configuration was not read from the Batch API (it is known only from Resource Graph), so no replacement body is generated: " +
      "copy the pool's settings from the portal or `az batch pool show`, then add the identity and Key Vault extension shown in the commands";
  } else {
    // Built once here for its OS, notes and placeholders; the body itself is made again whenever it is read.
    os = buildReplacementPool(configuration, observed, vault, settings, notes, placeholders).os;
  }

  for (const ref of observed) {
    if (ref.inAccount === false) {
      notes.push(`${ref.secretName} is referenced by the pool but is not a certificate of the account: import it from wherever you keep it, or leave it out of observedCertificates if the pool no longer needs it`);
    }
    if (ref.format === "Cer") {
      notes.push(`${ref.secretName} is a Cer certificate (no private key): store its PEM as a Key Vault secret (az keyvault secret set --content-type application/x-pem-file), not as a certificate`);
    }
    if (ref.visibility?.includes("Task")) {
      notes.push(
        `${ref.secretName} was visible to tasks: tasks that run as task-scoped auto-users cannot be named in the extension's accounts; run them as a named user account or have an elevated start task export the certificate`,
      );
    }
  }
  if (os === "linux") notes.push(LINUX_NOTE);

  const commandInput: CommandInput = {
    finding: { subscriptionId: finding.subscriptionId, resourceGroup: finding.resourceGroup, accountName: finding.accountName, accountId: finding.accountId },
    poolName,
    replacementPoolName,
    fileName,
    vault,
    settings,
    observed,
    placeholders,
  };
  // Run once for the placeholders the commands add; the lines themselves are made again whenever they are read.
  migrationCommands(commandInput);
  commandInput.placeholders = new Set();

  // The body and the commands are most of a kit's size (at 100,000 accounts, 25,000 kits held about 110 MB), and
  // they follow from the pool's configuration and a few names: the kit keeps those and makes the body and the
  // commands each time they are read. Both are enumerable properties in the same places as before, so the kit reads
  // and serialises (JSON.stringify, the report's streamed JSON) exactly as a plain object with them would.
  const kit = { poolName, replacementPoolName, fileName, os } as MigrationKit;
  if (configuration) derived(kit, "replacementPool", () => buildReplacementPool(configuration, observed, vault, settings, [], new Set()).body);
  kit.apiVersion = REPLACEMENT_API_VERSION;
  if (unavailable) kit.unavailable = unavailable;
  kit.placeholders = [...placeholders];
  kit.notes = [...new Set(notes)];
  derived(kit, "commands", () => migrationCommands(commandInput));
  kit.certificates = observed.map((o) => ({ secretName: o.secretName, referenceId: o.referenceId, inAccount: o.inAccount }));
  return kit;
}

/**
 * An enumerable property whose value is made each time it is read (so it is never kept), or held once assigned. It
 * keeps its place among the object's keys either way.
 */
function derived<K extends keyof MigrationKit>(kit: MigrationKit, key: K, make: () => MigrationKit[K]): void {
  Object.defineProperty(kit, key, {
    enumerable: true,
    configurable: true,
    get: make,
    set(value: MigrationKit[K]) {
      Object.defineProperty(kit, key, { value, enumerable: true, configurable: true, writable: true });
    },
  });
}

const LINUX_NOTE = `On Linux the extension writes certificates to ${LINUX_CERTIFICATE_FOLDER}, readable by root only, and $AZ_BATCH_CERTIFICATES_DIR is no longer set: tasks that read certificates must run elevated or use files an elevated start task copies`;

/** Kits for every pool finding; pools are matched by id, certificates by account. */
export function addMigrationKits(
  findings: readonly Finding[],
  pools: readonly PoolInfo[],
  certificates: ReadonlyMap<string, readonly AccountCertificate[] | "unknown">,
  settings: MigrationSettings,
): Finding[] {
  const byId = new Map(pools.map((p) => [p.id.toLowerCase(), p]));
  const taken = new Set<string>();
  return findings.map((finding) =>
    finding.kind === "pool-certificate-reference"
      ? {
          ...finding,
          migration: buildMigrationKit({
            finding,
            pool: byId.get(finding.resourceId.toLowerCase()),
            certificates: certificates.get(finding.accountId.toLowerCase()) ?? "unknown",
            settings,
            takenFileNames: taken,
          }),
        }
      : finding,
  );
}

/**
 * The same configuration held as its JSON text, parsed again each time `properties` or `identity` is read. A pool's
 * configuration is read once or twice (the migrated check, a migration kit), and as text it takes a fraction of the
 * memory of the parsed objects: at 100,000 accounts the audit holds about 50,000 of them until its findings are made.
 */
export function compactPoolConfiguration(configuration: PoolConfiguration): PoolConfiguration {
  const text = JSON.stringify({ properties: configuration.properties, identity: configuration.identity });
  const compact = {} as PoolConfiguration;
  Object.defineProperty(compact, "properties", { enumerable: true, get: () => (JSON.parse(text) as PoolConfiguration).properties });
  if (configuration.identity !== undefined) {
    Object.defineProperty(compact, "identity", { enumerable: true, get: () => (JSON.parse(text) as PoolConfiguration).identity });
  }
  return compact;
}

/** Whether a pool is already migrated: a Key Vault extension and no certificate references. */
export function isMigratedPool(configuration: PoolConfiguration | undefined, referenceCount: number): boolean {
  if (!configuration || referenceCount > 0) return false;
  const vmc = virtualMachineConfiguration(configuration.properties);
  const extensions = Array.isArray(vmc?.extensions) ? (vmc.extensions as Record<string, unknown>[]) : [];
  return extensions.some((e) => String(e.publisher ?? "").toLowerCase() === KEY_VAULT_EXTENSION.publisher.toLowerCase() && /^keyvaultfor(windows|linux)$/i.test(String(e.type ?? "")));
}

interface ObservedCertificate {
  secretName: string;
  referenceId: string;
  inAccount: boolean | "unknown";
  storeLocation?: string;
  storeName?: string;
  visibility?: string[];
  format?: string;
}

/** One entry per distinct certificate the pool references (a pool may name one twice, in different case). */
function distinctReferences(finding: Finding, certs: Map<string, AccountCertificate> | undefined): ObservedCertificate[] {
  const seen = new Map<string, ObservedCertificate>();
  for (const ref of finding.references ?? []) {
    const name = ref.certificateName ?? certificateNameOf(ref.id);
    // A malformed id names no certificate: keep it visible under a name derived from the id.
    const secretName = keyVaultName(name ?? ref.id.split("/").filter(Boolean).pop() ?? "certificate");
    if (seen.has(secretName)) continue;
    const cert = name ? certs?.get(name) : undefined;
    seen.set(secretName, {
      secretName,
      referenceId: ref.id,
      inAccount: ref.resolves,
      ...(ref.storeLocation ? { storeLocation: ref.storeLocation } : {}),
      ...(ref.storeName ? { storeName: ref.storeName } : {}),
      ...(ref.visibility ? { visibility: ref.visibility } : {}),
      ...(cert?.format ? { format: cert.format } : {}),
    });
  }
  return [...seen.values()];
}

/** Key Vault object names allow letters, digits and dashes (1-127): `sha1-<thumbprint>` already is one. */
function keyVaultName(name: string): string {
  return (name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "certificate").slice(0, 127);
}

/** Pool names: letters, digits, `_` and `-`, at most 64 (PoolNameParameter in the 2024-07-01 spec). */
function replacementName(poolName: string): string {
  const base = poolName.replace(/[^A-Za-z0-9_-]/g, "-");
  return `${base.slice(0, 64 - 3)}-kv`;
}

function uniqueFileName(base: string, taken: Set<string> | undefined): string {
  const safe = base.replace(/[^A-Za-z0-9_.-]+/g, "-");
  let name = `${safe}.json`;
  for (let i = 2; taken?.has(name.toLowerCase()); i++) name = `${safe}-${i}.json`;
  taken?.add(name.toLowerCase());
  return name;
}

function virtualMachineConfiguration(properties: Record<string, unknown>): Record<string, unknown> | undefined {
  const deployment = asObject(properties.deploymentConfiguration);
  return asObject(deployment?.virtualMachineConfiguration);
}

function buildReplacementPool(
  configuration: PoolConfiguration,
  observed: ObservedCertificate[],
  vault: string,
  settings: MigrationSettings,
  notes: string[],
  placeholders: Set<string>,
): { body: Record<string, unknown>; os: "windows" | "linux" } {
  const source = configuration.properties;
  const properties: Record<string, unknown> = {};
  for (const key of CARRIED) if (source[key] !== undefined && source[key] !== null) properties[key] = clone(source[key]);

  if (properties.scaleSettings === undefined) {
    // Without scale settings Batch creates a fixed pool of 0 nodes; keep today's size instead, and say so.
    const dedicated = Number(source.currentDedicatedNodes ?? 0);
    const spot = Number(source.currentLowPriorityNodes ?? 0);
    properties.scaleSettings = { fixedScale: { targetDedicatedNodes: dedicated, targetLowPriorityNodes: spot } };
    notes.push(`The pool reported no scale settings: the replacement is a fixed pool of today's size (${dedicated} dedicated, ${spot} Spot nodes)`);
  }
  const deployment = asObject(source.deploymentConfiguration);
  let vmc = clone(asObject(deployment?.virtualMachineConfiguration)) as Record<string, unknown> | undefined;
  let os: "windows" | "linux";
  if (!vmc) {
    const cloud = asObject(deployment?.cloudServiceConfiguration);
    const family = String(cloud?.osFamily ?? "7");
    const image = OS_FAMILY_SKUS[family] ?? OS_FAMILY_SKUS["7"]!;
    vmc = {
      imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: image.sku.toLowerCase(), version: "latest" },
      nodeAgentSkuId: "batch.node.windows amd64",
    };
    os = "windows";
    notes.push(
      `The pool uses CloudServiceConfiguration (osFamily ${family}), retired with certificates: the replacement uses VirtualMachineConfiguration with the ${image.version} marketplace image (MicrosoftWindowsServer/WindowsServer/${image.sku.toLowerCase()})` +
        (Number(family) < 5 ? `; that Windows Server version is past end of support, so consider 2022-datacenter instead` : "") +
        ". Check that your applications run there",
    );
  } else {
    os = isWindows(vmc) ? "windows" : "linux";
    // Only this copy is edited: secrets Azure does not return become placeholders, the extension list gains one.
    scrubContainerRegistries(asObject(vmc.containerConfiguration), placeholders);
  }
  const extensions = (Array.isArray(vmc.extensions) ? (vmc.extensions as Record<string, unknown>[]) : []).filter(
    (e) => !(String(e.publisher ?? "").toLowerCase() === KEY_VAULT_EXTENSION.publisher.toLowerCase()),
  );
  for (const e of extensions) {
    if (e.protectedSettings === undefined) continue;
    e.protectedSettings = { value: keep(placeholders, placeholder(`protected settings of extension ${String(e.name)}`)) };
  }
  extensions.push(keyVaultExtension(os, observed, vault, settings, placeholders));
  vmc.extensions = extensions;
  properties.deploymentConfiguration = { virtualMachineConfiguration: vmc };

  const startTask = clone(asObject(source.startTask)) as Record<string, unknown> | undefined;
  if (startTask) {
    for (const env of asArray(startTask.environmentSettings)) {
      if (env.value === undefined || env.value === null) env.value = keep(placeholders, placeholder(`start task environment value ${String(env.name)}`));
    }
    const registry = asObject(asObject(startTask.containerSettings)?.registry);
    if (registry) scrubRegistry(registry, placeholders);
    properties.startTask = startTask;
  }
  const users = asArray(clone(source.userAccounts));
  if (users.length > 0) {
    for (const user of users) {
      // Azure never returns user account passwords.
      user.password = keep(placeholders, placeholder(`password of user account ${String(user.name)}`));
      const linux = asObject(user.linuxUserConfiguration);
      if (linux && "sshPrivateKey" in linux && !linux.sshPrivateKey) linux.sshPrivateKey = keep(placeholders, placeholder(`SSH private key of user ${String(user.name)}`));
    }
    properties.userAccounts = users;
  }
  const mounts = asArray(clone(source.mountConfiguration));
  if (mounts.length > 0) {
    for (const mount of mounts) scrubMount(mount, placeholders);
    properties.mountConfiguration = mounts;
  }

  const identities: Record<string, Record<string, never>> = {};
  for (const id of Object.keys(asObject(configuration.identity?.userAssignedIdentities) ?? {})) identities[id] = {};
  const identityId = settings.identityId ?? keep(placeholders, IDENTITY_ID);
  identities[identityId] = {};
  return { body: { identity: { type: "UserAssigned", userAssignedIdentities: identities }, properties }, os };
}

function keyVaultExtension(os: "windows" | "linux", observed: ObservedCertificate[], vault: string, settings: MigrationSettings, placeholders: Set<string>): Record<string, unknown> {
  const url = (name: string) => `https://${vault}.vault.azure.net/secrets/${name}`;
  const observedCertificates =
    os === "windows"
      ? observed.map((o) => ({
          url: url(o.secretName),
          // The old reference's store (Batch's defaults: CurrentUser / My) is where the certificate is installed.
          certificateStoreName: o.storeName ?? "My",
          certificateStoreLocation: o.storeLocation ?? "CurrentUser",
        }))
      : observed.map((o) => ({ url: url(o.secretName), certificateStoreLocation: LINUX_CERTIFICATE_FOLDER }));
  return {
    name: os === "windows" ? KEY_VAULT_EXTENSION.windows : KEY_VAULT_EXTENSION.linux,
    publisher: KEY_VAULT_EXTENSION.publisher,
    type: os === "windows" ? KEY_VAULT_EXTENSION.windows : KEY_VAULT_EXTENSION.linux,
    typeHandlerVersion: KEY_VAULT_EXTENSION.typeHandlerVersion,
    autoUpgradeMinorVersion: true,
    enableAutomaticUpgrade: true,
    settings: {
      secretsManagementSettings: { pollingIntervalInS: "3600", requireInitialSync: true, observedCertificates },
      authenticationSettings: { msiEndpoint: "http://169.254.169.254/metadata/identity/oauth2/token", msiClientId: settings.identityClientId ?? keep(placeholders, IDENTITY_CLIENT_ID) },
    },
  };
}

function isWindows(vmc: Record<string, unknown>): boolean {
  const sku = String(vmc.nodeAgentSkuId ?? "").toLowerCase();
  if (sku.startsWith("batch.node.windows")) return true;
  if (sku.startsWith("batch.node.")) return false;
  const image = asObject(vmc.imageReference);
  const text = `${String(image?.publisher ?? "")} ${String(image?.offer ?? "")} ${String(image?.sku ?? "")}`.toLowerCase();
  return vmc.windowsConfiguration !== undefined || /windows/.test(text);
}

function scrubContainerRegistries(container: Record<string, unknown> | undefined, placeholders: Set<string>): void {
  for (const registry of asArray(container?.containerRegistries)) scrubRegistry(registry, placeholders);
}

function scrubRegistry(registry: Record<string, unknown>, placeholders: Set<string>): void {
  // A registry reached with a user name needs its password, which Azure never returns; one with an identity does not.
  if (registry.identityReference || !registry.username) return;
  registry.password = keep(placeholders, placeholder(`password for registry ${String(registry.registryServer ?? "docker.io")} user ${String(registry.username)}`));
}

function scrubMount(mount: Record<string, unknown>, placeholders: Set<string>): void {
  const blob = asObject(mount.azureBlobFileSystemConfiguration);
  if (blob && !blob.identityReference && !blob.accountKey && !blob.sasKey) {
    blob.accountKey = keep(placeholders, placeholder(`account key of storage account ${String(blob.accountName)} (or a sasKey, or an identityReference)`));
  }
  const cifs = asObject(mount.cifsMountConfiguration);
  if (cifs && !cifs.password) cifs.password = keep(placeholders, placeholder(`password of CIFS user ${String(cifs.userName)} for ${String(cifs.source)}`));
  const share = asObject(mount.azureFileShareConfiguration);
  if (share && !share.accountKey) share.accountKey = keep(placeholders, placeholder(`account key of storage account ${String(share.accountName)}`));
}

interface CommandInput {
  finding: Pick<Finding, "subscriptionId" | "resourceGroup" | "accountName" | "accountId">;
  poolName: string;
  replacementPoolName: string;
  fileName: string;
  vault: string;
  settings: MigrationSettings;
  observed: ObservedCertificate[];
  placeholders: Set<string>;
}

function migrationCommands(c: CommandInput): string[] {
  const { finding, vault } = c;
  // Names came from Azure (attacker-controlled in a hostile tenant): every one is shell-quoted where it is used.
  const rg = shq(finding.resourceGroup);
  const account = shq(finding.accountName);
  const identityName = "batch-pool-keyvault";
  const lines: string[] = [];
  lines.push(`az account set --subscription ${shq(finding.subscriptionId)}`);
  if (c.settings.identityId) {
    lines.push(`# The identity ${c.settings.identityId} is already configured for this tenant's replacement pools.`);
    lines.push(`PRINCIPAL_ID=$(az identity show --ids ${c.settings.identityId} --query principalId -o tsv)`);
  } else {
    lines.push(`# 1. A user-assigned identity for the new pool (once per account); put its id and clientId into ${c.fileName}.`);
    lines.push(`az identity create --resource-group ${rg} --name ${identityName}`);
    lines.push(`PRINCIPAL_ID=$(az identity show --resource-group ${rg} --name ${identityName} --query principalId -o tsv)`);
  }
  lines.push(`# 2. Let it read the vault's secrets (Key Vault Secrets User).`);
  lines.push(
    `az role assignment create --role "Key Vault Secrets User" --assignee-object-id "$PRINCIPAL_ID" --assignee-principal-type ServicePrincipal --scope "$(az keyvault show --name ${vault} --query id -o tsv)"`,
  );
  lines.push(`# 3. Import each certificate the pool uses into Key Vault, from the PFX you uploaded to Batch.`);
  for (const o of c.observed) {
    if (o.format === "Cer") {
      lines.push(`az keyvault secret set --vault-name ${vault} --name ${o.secretName} --file ${o.secretName}.pem --content-type application/x-pem-file`);
    } else {
      lines.push(`az keyvault certificate import --vault-name ${vault} --name ${o.secretName} --file ${o.secretName}.pfx --password "${keep(c.placeholders, placeholder("PFX password"))}"`);
    }
  }
  const poolsUrl = `https://management.azure.com${finding.accountId}/pools`;
  lines.push(`# 4. Create the replacement pool from ${c.fileName} (fill in every <REPLACE: ...> first).`);
  lines.push(`az rest --method put --url ${shq(`${poolsUrl}/${c.replacementPoolName}?api-version=${REPLACEMENT_API_VERSION}`)} --body @${shq(c.fileName)}`);
  lines.push(`# 5. Move the jobs: a job's pool can change only while it is disabled.`);
  lines.push(`az batch account login --resource-group ${rg} --name ${account}`);
  lines.push(
    `for JOB in $(az batch job list --query ${shq(`[?poolInfo.poolId=='${c.poolName.replace(/'/g, "")}'].id`)} -o tsv); do az batch job disable --job-id "$JOB" --disable-tasks requeue && az batch job set --job-id "$JOB" --pool-id ${shq(c.replacementPoolName)} && az batch job enable --job-id "$JOB"; done`,
  );
  lines.push(`# 6. Delete the old pool once its tasks have drained.`);
  lines.push(`az rest --method delete --url ${shq(`${poolsUrl}/${c.poolName}?api-version=${REPLACEMENT_API_VERSION}`)}`);
  const deletable = c.observed.filter((o) => o.inAccount !== false);
  if (deletable.length > 0) {
    lines.push(`# 7. Delete each certificate after every pool that uses it is replaced (Batch refuses while a pool or node still holds it).`);
    for (const o of deletable) {
      lines.push(`az rest --method delete --url ${shq(`https://management.azure.com${finding.accountId}/certificates/${o.secretName}?api-version=${CERTIFICATE_API_VERSION}`)}`);
    }
  }
  return lines;
}

/** Quotes a value for a POSIX shell command line unless it is plainly safe. */
function shq(s: string): string {
  return /^[A-Za-z0-9._/:@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function keep(placeholders: Set<string>, value: string): string {
  placeholders.add(value);
  return value;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function asArray(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => asObject(v) !== undefined) : [];
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
