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
// Learn "Key Vault virtual machine extension for Windows" (supported: Windows Server 2022 and 2025; per-certificate
// `certificateStoreLocation` LocalMachine and `accounts` that may read the private key) and "... for Linux" (supported:
// Ubuntu 22.04 and later, Azure Linux; `msiEndpoint` http://169.254.169.254/metadata/identity).
// Pure: no I/O. Values Azure never returns (passwords, keys) are left as named placeholders, never guessed.
import { certificateNameOf } from "./certificateReference.js";
import { DeflatedStore, type Deflated } from "./deflatedJson.js";
import {
  baseVariables,
  certificateImport,
  createPoolCommand,
  deleteCertificateCommand,
  grantCommands,
  identityCreateCommand,
  IDENTITY_CLIENT_ID_PLACEHOLDER,
  IDENTITY_ID_PLACEHOLDER,
  placeholder,
  VAULT_PLACEHOLDER,
  variableLines,
  type StepVariable,
} from "./migrationSteps.js";
import { flattenForComment, jmesRawString, shellQuote, shellQuoteReadable } from "./shellQuote.js";
import type { AccountCertificate, Finding, MigrationKit, PoolConfiguration, PoolInfo } from "./model.js";

/** What else the audit read that a kit builder may need. */
export interface KitContext {
  /** Per account (lower-cased id): the names of every pool read, those without findings too. */
  poolNames?: ReadonlyMap<string, readonly string[]>;
}

/** Kits given one finding at a time, once every finding is noted (a rule's `kit`: src/core/rules/rule.ts). */
export interface KitPlan {
  /** Notes what a finding tells of its account's pools: every finding, in any order, before the first kit. */
  note(finding: Finding): void;
  /** Once every finding is noted: what gives each finding its kit (or answers it as it is). */
  kits(
    pools: readonly PoolInfo[],
    certificates: ReadonlyMap<string, readonly AccountCertificate[] | "unknown">,
    settings: MigrationSettings,
    context?: KitContext,
  ): (finding: Finding) => Finding;
}

export { placeholder } from "./migrationSteps.js";

export const REPLACEMENT_API_VERSION = "2024-07-01";
export const KEY_VAULT_EXTENSION = { publisher: "Microsoft.Azure.KeyVault", typeHandlerVersion: "3.0", windows: "KeyVaultForWindows", linux: "KeyVaultForLinux" } as const;
/** Key Vault extension for Linux: default certificate folder (Learn key-vault-linux, "certificateStoreLocation"). */
export const LINUX_CERTIFICATE_FOLDER = "/var/lib/waagent/Microsoft.Azure.KeyVault.Store";
/** The Instance Metadata Service identity endpoint the Linux extension is given (Learn key-vault-linux, msiEndpoint). */
export const LINUX_MSI_ENDPOINT = "http://169.254.169.254/metadata/identity";

export interface MigrationSettings {
  identityId?: string | undefined;
  identityClientId?: string | undefined;
  keyVaultName?: string | undefined;
}

/**
 * The Windows Server Marketplace image a CloudServiceConfiguration pool moves to: 2022 whatever its osFamily, the
 * oldest Windows Server the Key Vault extension supports (families 2-6 are 2008 R2 to 2019, which it does not).
 */
const CLOUD_SERVICE_IMAGE = { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter", version: "latest" } as const;
/** Learn "Guest OS families": the Windows Server of each CloudServiceConfiguration osFamily. */
const OS_FAMILY_VERSIONS: Record<string, string> = {
  "2": "Windows Server 2008 R2 SP1",
  "3": "Windows Server 2012",
  "4": "Windows Server 2012 R2",
  "5": "Windows Server 2016",
  "6": "Windows Server 2019",
  "7": "Windows Server 2022",
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
  /**
   * Pool names taken in the pool's account (lower case: pool ids are case-insensitive): the pools the audit read and
   * the replacements already named in this run. The replacement's name is added.
   */
  takenPoolNames?: Set<string>;
  /** Per certificate name (lower case): the account's other pools that still reference it. */
  otherPoolsUsing?: ReadonlyMap<string, readonly string[]>;
}

export function buildMigrationKit(input: MigrationInput): MigrationKit {
  const { finding, pool, settings } = input;
  const poolName = finding.poolName ?? pool?.name ?? "pool";
  const replacementPoolName = replacementName(poolName, input.takenPoolNames);
  const fileName = uniqueFileName(`${finding.accountName}--${poolName}`, input.takenFileNames);
  const certs = input.certificates === "unknown" ? undefined : new Map(input.certificates.map((c) => [c.name.toLowerCase(), c]));
  const referenced = distinctReferences(finding, certs);
  // Each with the account's other pools that still use it (the kit does not delete those).
  const withUsers = referenced.map((o) => ({ ...o, otherPools: input.otherPoolsUsing?.get(o.secretName) ?? [] }));
  const observed = observedOf(withUsers);
  const vault = settings.keyVaultName ?? VAULT_PLACEHOLDER;

  const configuration = pool?.configuration;
  let os: MigrationKit["os"] = "unknown";
  let unavailable: string | undefined;
  if (!configuration) {
    // The audit keeps the configuration of the pools the Batch API lists with references (the others need no kit).
    unavailable =
      (pool?.disagreement
        ? "The Batch API does not show this pool's certificate references (only Resource Graph does: see the sources note), so no replacement body is generated: check the pool first; if it still uses certificates, "
        : "The pool's configuration was not read from the Batch API (it is known only from Resource Graph), so no replacement body is generated: ") +
      "copy the pool's settings from the portal or `az batch pool show`, then add the identity and Key Vault extension shown in the commands";
  } else {
    // The body, and what building it notes, are made whenever they are read.
    os = poolOs(configuration.properties);
  }

  const commandInput: CommandInput = {
    finding: { subscriptionId: finding.subscriptionId, resourceGroup: finding.resourceGroup, accountName: finding.accountName, accountId: finding.accountId },
    poolName,
    replacementPoolName,
    fileName,
    hasBody: configuration !== undefined,
    settings,
    observed,
  };

  // The body, the script and its variables, the notes, warnings and placeholders, and the certificate list are most
  // of a kit's size (at 100,000 accounts, 25,000 kits held about 110 MB in bodies and scripts, and 25 MB more in the
  // rest), and they follow from the pool's configuration and a few names: the kit keeps those and makes each of them
  // when it is read. All are enumerable properties in the same places as before, so the kit reads and serialises
  // (JSON.stringify, the report's streamed JSON) exactly as a plain object with them would.
  const kit = { poolName, replacementPoolName, fileName, os } as MigrationKit;
  recipes.set(kit, { configuration, vault, commandInput, referenced: withUsers });
  if (configuration) Object.defineProperty(kit, "replacementPool", MADE_ON_READ.replacementPool);
  kit.apiVersion = REPLACEMENT_API_VERSION;
  if (unavailable) kit.unavailable = unavailable;
  Object.defineProperty(kit, "placeholders", MADE_ON_READ.placeholders);
  Object.defineProperty(kit, "notes", MADE_ON_READ.notes);
  Object.defineProperty(kit, "warnings", MADE_ON_READ.warnings);
  Object.defineProperty(kit, "variables", MADE_ON_READ.variables);
  Object.defineProperty(kit, "commands", MADE_ON_READ.commands);
  Object.defineProperty(kit, "certificates", MADE_ON_READ.certificates);
  return kit;
}

/**
 * A reference to a certificate the account does not hold is neither imported nor observed: with requireInitialSync a
 * secret that is not in the vault would keep every node from starting.
 */
function observedOf<T extends ObservedCertificate>(referenced: readonly T[]): T[] {
  return referenced.filter((o) => o.inAccount !== false);
}

/** What building the body noted, then what each certificate and the pool's OS call for, then the placeholders left. */
interface KitTexts {
  placeholders: string[];
  notes: string[];
  warnings: string[];
}

/**
 * A kit's notes, warnings and placeholders, from its recipe. A reader (the report's writers) reads a kit's properties
 * one after another, so the last kit's are kept and the body is built once for the three.
 */
let lastTexts: { recipe: KitRecipe; texts: KitTexts } | undefined;
function kitTexts(r: KitRecipe): KitTexts {
  if (lastTexts?.recipe === r) return lastTexts.texts;
  const { settings, observed } = r.commandInput;
  const notes: string[] = [];
  const warnings: string[] = [];
  const placeholders = new Set<string>();
  if (!settings.keyVaultName) placeholders.add(VAULT_PLACEHOLDER);
  const os = r.configuration ? buildReplacementPool(r.configuration, observed, r.vault, settings, notes, placeholders, warnings).os : "unknown";
  for (const ref of r.referenced) {
    if (ref.inAccount === false) {
      notes.push(
        `${ref.secretName} is referenced by the pool but is not a certificate of the account, so the replacement does not observe it and nothing imports it: if the pool still needs it, put it in Key Vault from wherever you keep it and add it to the extension's observedCertificates`,
      );
    } else if (ref.format === "Cer") {
      notes.push(`${ref.secretName} is a Cer certificate (public key only): the script reads it from Batch, converts it to PEM (openssl x509 -inform der) and stores it as a Key Vault secret the extension installs`);
    }
    if (ref.visibility?.includes("Task")) {
      notes.push(
        `${ref.secretName} was visible to tasks: tasks that run as task-scoped auto-users cannot be named in the extension's accounts; run them as a named user account or have an elevated start task export the certificate`,
      );
    }
  }
  if (os === "linux") notes.push(LINUX_NOTE);
  for (const o of observed) {
    if (o.otherPools.length > 0) {
      notes.push(`${o.secretName} is also used by ${o.otherPools.length === 1 ? "pool" : "pools"} ${o.otherPools.join(", ")}, so this kit does not delete it: delete it once no pool uses it`);
    }
  }
  for (const v of kitVariables(r.commandInput)) if (v.value.startsWith("<REPLACE:")) placeholders.add(v.value);
  const texts = { placeholders: [...placeholders], notes: [...new Set(notes)], warnings: [...new Set(warnings)] };
  lastTexts = { recipe: r, texts };
  return texts;
}

/**
 * What a kit's body, script, variables, notes, warnings, placeholders and certificate list are made from, each time
 * they are read. Held per kit in a WeakMap (gone with the kit) and read by accessors shared by every kit, not by
 * closures made per kit: a closure made in buildMigrationKit would share its scope, which holds the kit's whole
 * input (the finding before the kit, the PoolInfo with its facts, the account's certificates and taken pool names),
 * and accessors that differ per object put every kit in dictionary mode. Measured on the 10,000-account job's report:
 * kits held 10.8 MB that way. The accessors answer for the kit itself (and its copies by spread or JSON, which take
 * the values); an object made with the kit as its prototype, or a Proxy of it, reads them as undefined (nothing does
 * either).
 */
interface KitRecipe {
  configuration: PoolConfiguration | undefined;
  vault: string;
  commandInput: CommandInput;
  /** Every distinct certificate the pool references, each with the account's other pools that use it. */
  referenced: (ObservedCertificate & { otherPools: readonly string[] })[];
}
const recipes = new WeakMap<MigrationKit, KitRecipe | HeldRecipe>();

/**
 * A recipe held deflated (`holdKitRecipesDeflated`): its JSON in a store outside V8's heap, the run's settings shared.
 * The certificates a kit observes are not kept twice: they are the referenced ones the account holds.
 */
interface HeldRecipe {
  store: DeflatedStore;
  at: Deflated<StoredRecipe>;
  settings: MigrationSettings;
}
interface StoredRecipe {
  /** The configuration as `poolConfigurationText` writes it; absent when the pool's was not read. */
  configuration?: string;
  vault: string;
  commandInput: Omit<CommandInput, "settings" | "observed">;
  referenced: KitRecipe["referenced"];
}

/**
 * Holds the recipes of these findings' kits deflated until a kit is read, each alone (a kit may be read in any order:
 * the page reads them by urgency). Once the job's audit is over its kits are read only by the report's writers (the
 * JSON and the page, each a kit once) and by the few messages rendered (their attachments, a few reads a kit), while
 * as objects the recipes were about 24 MB of the heap held through tracking and the sending at 100,000 accounts
 * (heap snapshots of that job, docs/benchmarks.md, sixteenth pass). The job calls it once its audit stage is over, not
 * the audit (whose own unconstrained peak is at its end: made deflated there, they raised it, thirteenth pass). A kit
 * reads and serialises exactly as before. Answers the bytes held.
 */
export function holdKitRecipesDeflated(findings: Iterable<Finding>): number {
  // A recipe is 1-3 KB of JSON: zlib's default 16 KB pieces, one a deflate and one an inflate, were 27-37 MB of buffers
  // at once in the 10,000-account job's tracking (against 6-7 MB without this), and its peak 18 MB higher.
  const store = new DeflatedStore({ pieceBytes: 2048 });
  for (const f of findings) {
    const kit = f.migration;
    const recipe = kit ? recipes.get(kit) : undefined;
    if (kit === undefined || recipe === undefined || "store" in recipe) continue;
    const { settings, observed: _observed, ...commandInput } = recipe.commandInput;
    const stored: StoredRecipe = {
      ...(recipe.configuration ? { configuration: configurationText(recipe.configuration) } : {}),
      vault: recipe.vault,
      commandInput,
      referenced: recipe.referenced,
    };
    recipes.set(kit, { store, at: store.put(stored), settings });
  }
  return store.bytes;
}

/**
 * A kit's recipe, inflated when it is held deflated. A reader reads a kit's properties one after another, so the last
 * kit's recipe is kept: one inflate a kit a reader, and one body built for its notes, warnings and placeholders
 * (kitTexts). The kit is known by a weak reference: a strong one would keep its run's whole store after the run, in a
 * Functions host that outlives it.
 */
let lastInflated: { kit: WeakRef<MigrationKit>; recipe: KitRecipe } | undefined;
function recipeOf(kit: MigrationKit): KitRecipe | undefined {
  const held = recipes.get(kit);
  if (held === undefined || !("store" in held)) return held;
  if (lastInflated?.kit.deref() === kit) return lastInflated.recipe;
  const stored = held.store.get(held.at);
  const recipe: KitRecipe = {
    configuration: stored.configuration === undefined ? undefined : new CompactConfiguration(stored.configuration),
    vault: stored.vault,
    commandInput: { ...stored.commandInput, settings: held.settings, observed: observedOf(stored.referenced) },
    referenced: stored.referenced,
  };
  lastInflated = { kit: new WeakRef(kit), recipe };
  return recipe;
}

/**
 * Enumerable accessors in the places a plain object would have the values (so a kit reads and serialises, with
 * JSON.stringify or the report's streamed JSON, as one with them would), made each time they are read; assigning a
 * value holds it instead, in the same place.
 */
const MADE_ON_READ = {
  replacementPool: accessor("replacementPool", (r) => {
    if (!r.configuration) return undefined;
    return buildReplacementPool(r.configuration, r.commandInput.observed, r.vault, r.commandInput.settings, [], new Set(), []).body;
  }),
  // Copies, so that a reader changing one changes nothing another reads.
  placeholders: accessor("placeholders", (r) => [...kitTexts(r).placeholders]),
  notes: accessor("notes", (r) => [...kitTexts(r).notes]),
  warnings: accessor("warnings", (r) => [...kitTexts(r).warnings]),
  // The script's values (names and what to fill in): they follow from the same input as the commands.
  variables: accessor("variables", (r) => kitVariables(r.commandInput).map((v) => ({ name: v.name, value: v.value }))),
  commands: accessor("commands", (r) => migrationCommands(r.commandInput)),
  certificates: accessor("certificates", (r) =>
    r.referenced.map((o) => ({
      secretName: o.secretName,
      referenceId: o.referenceId,
      inAccount: o.inAccount,
      ...(o.format ? { format: o.format } : {}),
      ...(o.certificateId ? { certificateId: o.certificateId } : {}),
      ...(deletesCertificate(o) ? { deletedByKit: true } : {}),
    })),
  ),
} as const;

function accessor<K extends "replacementPool" | "placeholders" | "notes" | "warnings" | "variables" | "commands" | "certificates">(key: K, make: (recipe: KitRecipe) => MigrationKit[K] | undefined): PropertyDescriptor {
  return {
    enumerable: true,
    configurable: true,
    get(this: MigrationKit) {
      const recipe = recipeOf(this);
      return recipe ? make(recipe) : undefined;
    },
    set(this: MigrationKit, value: MigrationKit[K]) {
      Object.defineProperty(this, key, { value, enumerable: true, configurable: true, writable: true });
    },
  };
}

const LINUX_NOTE = `On Linux the extension writes certificates to ${LINUX_CERTIFICATE_FOLDER}, readable by root only, and $AZ_BATCH_CERTIFICATES_DIR is no longer set: tasks that read certificates must run elevated or use files an elevated start task copies`;

/**
 * Kits for every pool finding; pools are matched by id, certificates by account. The names of the pools the audit
 * read (`pools`, and `context.poolNames` for those without certificates) are taken: a replacement never gets the
 * name of a live pool. The pools' references decide which certificates a kit may delete (never one another pool
 * still uses).
 */
export function addMigrationKits(
  findings: readonly Finding[],
  pools: readonly PoolInfo[],
  certificates: ReadonlyMap<string, readonly AccountCertificate[] | "unknown">,
  settings: MigrationSettings,
  context: KitContext = {},
): Finding[] {
  const plan = migrationKitPlan();
  for (const f of findings) plan.note(f);
  return findings.map(plan.kits(pools, certificates, settings, context));
}

/**
 * Kits made one finding at a time: every finding is noted first (its pool's name and the certificates it references,
 * which decide the replacement names taken and the certificates other pools still use), in any order; then `kits`
 * gives each its kit, in the report's order (file and replacement names are taken in that order). What a finding's
 * kit lists as the other pools using a certificate is in name order, whatever order the pools were read in.
 */
export function migrationKitPlan(): KitPlan {
  const accounts = new Map<string, { poolNames: Set<string>; users: Map<string, Set<string>> }>();
  const accountOf = (accountId: string) => {
    const key = accountId.toLowerCase();
    let entry = accounts.get(key);
    if (!entry) accounts.set(key, (entry = { poolNames: new Set(), users: new Map() }));
    return entry;
  };
  const addPool = (accountId: string, name: string, references: readonly { id: string; certificateName?: string }[]) => {
    const entry = accountOf(accountId);
    entry.poolNames.add(name.toLowerCase());
    for (const ref of references) {
      const cert = ref.certificateName ?? certificateNameOf(ref.id);
      if (!cert) continue;
      const users = entry.users.get(keyVaultName(cert)) ?? new Set<string>();
      users.add(name);
      entry.users.set(keyVaultName(cert), users);
    }
  };
  return {
    note(f) {
      if (f.kind === "pool-certificate-reference" && f.poolName) addPool(f.accountId, f.poolName, f.references ?? []);
    },
    kits(pools, certificates, settings, context = {}) {
      const byId = new Map(pools.map((p) => [p.id.toLowerCase(), p]));
      const taken = new Set<string>();
      for (const p of pools) addPool(p.accountId, p.name, p.certificateReferences);
      for (const [accountId, names] of context.poolNames ?? []) for (const name of names) accountOf(accountId).poolNames.add(name.toLowerCase());
      return (finding) => {
        if (finding.kind !== "pool-certificate-reference") return finding;
        // Carried as last seen with nothing of its account's pools read this run (neither the pool nor their names, which a
        // replacement's name must avoid): nothing to build a kit from that is known to be true today.
        if (finding.notRechecked && !byId.has(finding.resourceId.toLowerCase()) && !context.poolNames?.has(finding.accountId.toLowerCase())) return finding;
        const account = accountOf(finding.accountId);
        const self = (finding.poolName ?? "").toLowerCase();
        const otherPoolsUsing = new Map<string, string[]>();
        for (const [cert, users] of account.users) {
          const others = [...users].filter((u) => u.toLowerCase() !== self).sort(byName);
          if (others.length > 0) otherPoolsUsing.set(cert, others);
        }
        return {
          ...finding,
          migration: buildMigrationKit({
            finding,
            pool: byId.get(finding.resourceId.toLowerCase()),
            certificates: certificates.get(finding.accountId.toLowerCase()) ?? "unknown",
            settings,
            takenFileNames: taken,
            takenPoolNames: account.poolNames,
            otherPoolsUsing,
          }),
        };
      };
    },
  };
}

/** Pool names in a fixed order: case-insensitively, then as written. */
function byName(a: string, b: string): number {
  return a.toLowerCase().localeCompare(b.toLowerCase()) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The same configuration held as its JSON text, parsed again each time `properties` or `identity` is read. A pool's
 * configuration is read once or twice (the migrated check, a migration kit), and as text it takes a fraction of the
 * memory of the parsed objects: at 100,000 accounts the audit holds about 25,000 of them until its findings are made.
 * The getters are the class's, so an instance is its text and a header (two closures and a context each cost more
 * than the text of a small pool).
 */
class CompactConfiguration implements PoolConfiguration {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  /** The text it holds (as `poolConfigurationText` writes it). */
  get text(): string {
    return this.#text;
  }

  get properties(): PoolConfiguration["properties"] {
    return (JSON.parse(this.#text) as PoolConfiguration).properties;
  }

  get identity(): PoolConfiguration["identity"] {
    return (JSON.parse(this.#text) as PoolConfiguration).identity;
  }

  /** The configuration as it was given (JSON.stringify and structured logs see the data, not an empty object). */
  toJSON(): PoolConfiguration {
    return JSON.parse(this.#text) as PoolConfiguration;
  }
}

/** A configuration as the JSON text a compact one holds (`compactPoolConfigurationOfText` reads it back). */
export function poolConfigurationText(configuration: PoolConfiguration): string {
  return JSON.stringify({ properties: configuration.properties, identity: configuration.identity });
}

/** A configuration's text, as `poolConfigurationText` writes it (a compact one's without parsing it). */
function configurationText(configuration: PoolConfiguration): string {
  return configuration instanceof CompactConfiguration ? configuration.text : poolConfigurationText(configuration);
}

/** The compact configuration of a text made by `poolConfigurationText` (not parsed until it is read). */
export function compactPoolConfigurationOfText(text: string): PoolConfiguration {
  return new CompactConfiguration(text);
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
  /** The account certificate's ARM id, when the account holds it. */
  certificateId?: string;
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
      ...(cert ? { certificateId: cert.id } : {}),
    });
  }
  return [...seen.values()];
}

/** Key Vault object names allow letters, digits and dashes (1-127): `sha1-<thumbprint>` already is one. */
function keyVaultName(name: string): string {
  return (name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "certificate").slice(0, 127);
}

/**
 * Pool names: letters, digits, `_` and `-`, at most 64, case-insensitive (PoolNameParameter in the 2024-07-01 spec).
 * `<pool>-kv`, or `-kv2`, `-kv3`, ... when a pool the audit read (or another replacement) has that name. The create
 * is conditional as well (If-None-Match: *), for a pool made after the audit.
 */
function replacementName(poolName: string, taken: Set<string> | undefined): string {
  const base = poolName.replace(/[^A-Za-z0-9_-]/g, "-");
  for (let i = 1; ; i++) {
    const suffix = i === 1 ? "-kv" : `-kv${i}`;
    const name = `${base.slice(0, 64 - suffix.length)}${suffix}`;
    if (taken?.has(name.toLowerCase())) continue;
    taken?.add(name.toLowerCase());
    return name;
  }
}

function uniqueFileName(base: string, taken: Set<string> | undefined): string {
  // Never starting with `-` or `.`: a file named like an option, or hidden, is a trap for whoever runs it.
  const safe = base.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[-.]+/, "") || "pool";
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
  warnings: string[],
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
  const os = poolOs(source);
  if (!vmc) {
    const cloud = asObject(deployment?.cloudServiceConfiguration);
    const family = String(cloud?.osFamily ?? "7");
    const was = OS_FAMILY_VERSIONS[family];
    vmc = { imageReference: { ...CLOUD_SERVICE_IMAGE }, nodeAgentSkuId: "batch.node.windows amd64" };
    notes.push(
      `The pool uses CloudServiceConfiguration (osFamily ${family}${was ? `, ${was}` : ""}), retired with certificates: the replacement uses VirtualMachineConfiguration with the Windows Server 2022 Marketplace image (${CLOUD_SERVICE_IMAGE.publisher}/${CLOUD_SERVICE_IMAGE.offer}/${CLOUD_SERVICE_IMAGE.sku}), the oldest the Key Vault extension supports. Check that your applications run there`,
    );
  } else {
    const unsupported = unsupportedImage(vmc, os);
    if (unsupported) warnings.push(unsupported);
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
  const namedUsers = asArray(source.userAccounts).map((u) => String(u.name ?? "")).filter(Boolean);
  extensions.push(keyVaultExtension(os, observed, vault, settings, placeholders, namedUsers));
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
  const identityId = settings.identityId ?? keep(placeholders, IDENTITY_ID_PLACEHOLDER);
  identities[identityId] = {};
  return { body: { identity: { type: "UserAssigned", userAssignedIdentities: identities }, properties }, os };
}

function keyVaultExtension(
  os: "windows" | "linux",
  observed: ObservedCertificate[],
  vault: string,
  settings: MigrationSettings,
  placeholders: Set<string>,
  namedUsers: string[],
): Record<string, unknown> {
  const url = (name: string) => `https://${vault}.vault.azure.net/secrets/${name}`;
  const observedCertificates =
    os === "windows"
      ? observed.map((o) => ({
          url: url(o.secretName),
          // The old reference's store name (Batch's default: My). The location is LocalMachine: the extension runs as
          // SYSTEM, so its CurrentUser store is SYSTEM's, which no task sees.
          certificateStoreName: o.storeName ?? "My",
          certificateStoreLocation: "LocalMachine",
          // Tasks that run as the pool's named users may read the private key (a Cer has none).
          ...(namedUsers.length > 0 && o.format !== "Cer" ? { accounts: namedUsers } : {}),
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
      authenticationSettings: { ...(os === "linux" ? { msiEndpoint: LINUX_MSI_ENDPOINT } : {}), msiClientId: settings.identityClientId ?? keep(placeholders, IDENTITY_CLIENT_ID_PLACEHOLDER) },
    },
  };
}

/**
 * Why the pool's own image is outside what the Key Vault extension supports (Windows Server 2022 and 2025; Ubuntu
 * 22.04 and later, Azure Linux), or undefined when it is inside. A custom image cannot be told from its id: it is
 * named so the owner checks.
 */
function unsupportedImage(vmc: Record<string, unknown>, os: "windows" | "linux"): string | undefined {
  const image = asObject(vmc.imageReference);
  const agent = String(vmc.nodeAgentSkuId ?? "").toLowerCase();
  const label = image?.id ? `custom image ${String(image.id)}` : `${String(image?.publisher ?? "?")}/${String(image?.offer ?? "?")}/${String(image?.sku ?? "?")}`;
  const supported = os === "windows" ? "Windows Server 2022 and 2025" : "Ubuntu 22.04 and later and Azure Linux";
  const why = `The pool's image (${label}, node agent ${agent || "unknown"}) is not one the Key Vault extension supports (${supported}): move the replacement to a supported image before creating it, or the extension will not install`;
  if (image?.id) return `${why.replace("is not one", "may not be one")}; check what the custom image is built on`;
  const sku = String(image?.sku ?? "").toLowerCase();
  const offer = String(image?.offer ?? "").toLowerCase();
  if (os === "windows") return /^(2022|2025)-/.test(sku) || /(2022|2025)/.test(offer) ? undefined : why;
  const ubuntu = /^batch\.node\.ubuntu (\d+)\.04$/.exec(agent);
  if (ubuntu) return Number(ubuntu[1]) >= 22 ? undefined : why;
  if (/azurelinux|azure-linux|mariner|cbl-mariner/.test(`${agent} ${offer}`)) return undefined;
  if (/ubuntu/.test(`${offer} ${sku}`)) {
    const version = /(\d{2})[_.]?04/.exec(`${offer} ${sku}`);
    return version && Number(version[1]) >= 22 ? undefined : why;
  }
  return why;
}

/** The OS the replacement runs and the Key Vault extension is chosen for: a CloudServiceConfiguration pool becomes Windows. */
function poolOs(properties: PoolConfiguration["properties"]): "windows" | "linux" {
  const vmc = asObject(asObject(properties.deploymentConfiguration)?.virtualMachineConfiguration);
  return !vmc || isWindows(vmc) ? "windows" : "linux";
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
  hasBody: boolean;
  settings: MigrationSettings;
  observed: (ObservedCertificate & { otherPools: readonly string[] })[];
}

/** The shell variables the script starts with: the vault, the identity, each PFX's password. */
function kitVariables(c: CommandInput): StepVariable[] {
  return [...baseVariables(c.settings), ...c.observed.flatMap((o) => certificateImport(o)?.variables ?? [])];
}

/** Whether the kit deletes the certificate: the account holds it and no other pool uses it. */
function deletesCertificate(o: ObservedCertificate & { otherPools: readonly string[] }): boolean {
  if (o.inAccount === false || !o.certificateId) return false;
  return o.otherPools.length === 0;
}

interface ScriptStep {
  label: string;
  commands: string[];
}

/**
 * The script after its header: the values to fill in, a guard that stops while any is unfilled (in the script or in
 * the body file) or while the body names another identity, then numbered steps a second run can resume from
 * (`bash <script> <step>`). Only az, openssl and shell built-ins run; every value from Azure or configuration is
 * quoted (shellQuote) or sits in a variable that is.
 */
function migrationCommands(c: CommandInput): string[] {
  const variables = kitVariables(c);
  const lines = [...scriptPrologue(c, variables)];
  const steps = scriptSteps(c);
  steps.forEach((step, i) => {
    lines.push(`# ${i + 1}. ${flattenForComment(step.label)}`);
    lines.push(`if [ "$FROM_STEP" -le ${i + 1} ]; then`);
    for (const command of step.commands) lines.push(`  ${command}`);
    lines.push("fi");
  });
  lines.push(`printf 'Done: %s replaces %s.\\n' ${shellQuote(c.replacementPoolName)} ${shellQuote(c.poolName)}`);
  return lines;
}

function scriptPrologue(c: CommandInput, variables: StepVariable[]): string[] {
  const { finding } = c;
  const lines: string[] = [];
  lines.push("# Fill in every <REPLACE: ...> below and in the body file; the script stops until you have.");
  if (!c.settings.identityId) {
    lines.push(`# IDENTITY_ID and IDENTITY_CLIENT_ID: one identity per account serves all its new pools; this prints both:`);
    lines.push(`#   ${flattenForComment(identityCreateCommand(finding.resourceGroup))}`);
  }
  for (const v of variables) lines.push(`${variableLines([v])[0]!}  # ${flattenForComment(v.about)}`);
  lines.push(`BODY=${shellQuote(c.fileName)}`);
  lines.push(`JOBS_MOVED=${shellQuote(c.fileName.replace(/\.json$/, ".jobs-moved"))}`);
  lines.push(`stop() { printf 'Stopped: %s\\n' "$*" >&2; exit 1; }`);
  lines.push(`FROM_STEP="\${1:-1}"`);
  lines.push(`case $FROM_STEP in ''|*[!0-9]*) stop "the argument is the step to start from, a number";; esac`);
  lines.push(`for VALUE in ${variables.map((v) => `"$${v.name}"`).join(" ")}; do case $VALUE in *'<REPLACE:'*) stop "fill in every <REPLACE: ...> value at the top of $0 first";; esac; done`);
  if (c.hasBody) {
    lines.push(`[ -f "$BODY" ] || stop "$BODY (the new pool's body) is not in this folder: run $0 from the folder that holds it"`);
    lines.push(`NAMED=no`);
    lines.push(`while IFS= read -r LINE || [ -n "$LINE" ]; do case $LINE in *'<REPLACE:'*) stop "fill in every <REPLACE: ...> in $BODY first: $LINE";; *"\\"$IDENTITY_ID\\""*) NAMED=yes;; esac; done < "$BODY"`);
    lines.push(`[ "$NAMED" = yes ] || stop "$BODY does not name the identity $IDENTITY_ID: put the same resource id in both"`);
  }
  lines.push(`az account set --subscription ${shellQuote(finding.subscriptionId)}`);
  lines.push(`az batch account login --resource-group ${shellQuote(finding.resourceGroup)} --name ${shellQuote(finding.accountName)}`);
  return lines;
}

/** `stop` with a message naming a pool: quoted text, then how to go on. */
function stopLine(message: string, resumeAt: number): string {
  return `stop ${shellQuote(message)} "run $0 ${resumeAt} to go on"`;
}

function scriptSteps(c: CommandInput): ScriptStep[] {
  const { finding } = c;
  const oldPool = shellQuote(c.poolName);
  const newPool = shellQuote(c.replacementPoolName);
  const onOld = (extra: string) => `[?poolInfo.poolId==${jmesRawString(c.poolName)}${extra}]`;
  const count = (extra: string) => shellQuoteReadable(`length(${onOld(extra)})`);
  const steps: ScriptStep[] = [];
  steps.push({ label: "Let the identity read the vault's secrets (Key Vault Secrets User).", commands: grantCommands() });
  for (const o of c.observed) {
    const step = certificateImport(o);
    if (step) steps.push({ label: `Key Vault, ${o.secretName}: ${step.text}.`, commands: step.commands });
  }
  const createStep = steps.length + 1;
  steps.push(
    c.hasBody
      ? {
          label: `Create ${c.replacementPoolName} from the body file, only if no pool has that name: with If-None-Match: * Azure refuses (412) rather than update a live pool.`,
          commands: [createPoolCommand(finding.accountId, c.replacementPoolName, REPLACEMENT_API_VERSION, `"@$BODY"`)],
        }
      : {
          label: `Create ${c.replacementPoolName} yourself: the pool's configuration was not read, so there is no body.`,
          commands: [stopLine(`create ${c.replacementPoolName} with the identity and the Key Vault extension (see the notes above);`, createStep + 1)],
        },
  );
  const waitStep = steps.length + 1;
  steps.push({
    label: `Wait until ${c.replacementPoolName} has finished resizing and every node is idle or running (a node stuck starting can mean the extension could not install a certificate).`,
    commands: [
      `az resource wait --ids ${shellQuote(`${finding.accountId}/pools/${c.replacementPoolName}`)} --api-version ${REPLACEMENT_API_VERSION} --custom "properties.allocationState=='Steady'" --interval 30 --timeout 3600`,
      `NOT_READY=$(az batch node list --pool-id ${newPool} --query "length([?state!='idle' && state!='running'])" -o tsv)`,
      `[ "$NOT_READY" = 0 ] || ${stopLine(`some nodes of ${c.replacementPoolName} are not ready (az batch node list --pool-id ${c.replacementPoolName} shows them);`, waitStep)}`,
    ],
  });
  steps.push({
    label: `Point the job schedules that create jobs on ${c.poolName} at ${c.replacementPoolName}.`,
    commands: [
      `az batch job-schedule list --query ${shellQuoteReadable(`[?jobSpecification.poolInfo.poolId==${jmesRawString(c.poolName)}].id`)} -o tsv | while IFS= read -r SCHEDULE; do az batch job-schedule set --job-schedule-id "$SCHEDULE" --pool-id ${newPool}; done`,
    ],
  });
  const moveStep = steps.length + 1;
  steps.push({
    label: `Move the active jobs. A job's pool changes only while it is disabled; --disable-tasks wait lets running tasks finish on ${c.poolName} (requeue would stop and restart them), so nothing running is interrupted. Jobs disabled before this script ran are left as they are.`,
    commands: [
      `az batch job list --query ${shellQuoteReadable(`${onOld(" && state=='active'")}.id`)} -o tsv | while IFS= read -r JOB; do az batch job disable --job-id "$JOB" --disable-tasks wait && printf '%s\\n' "$JOB" >> "$JOBS_MOVED"; done`,
      `WAITING=$(az batch job list --query ${count(" && state=='disabling'")} -o tsv)`,
      `[ "$WAITING" = 0 ] || ${stopLine(`some jobs still have tasks running on ${c.poolName}; once they finish,`, moveStep)}`,
      `if [ -f "$JOBS_MOVED" ]; then while IFS= read -r JOB; do az batch job set --job-id "$JOB" --pool-id ${newPool} && az batch job enable --job-id "$JOB"; done < "$JOBS_MOVED"; fi`,
    ],
  });
  const deleteStep = steps.length + 1;
  steps.push({
    label: `Delete ${c.poolName} once no job uses it and no task runs on it.`,
    commands: [
      `LEFT=$(az batch job list --query ${count(" && state!='completed'")} -o tsv)`,
      `[ "$LEFT" = 0 ] || ${stopLine(`jobs still use ${c.poolName} (disabled before this script ran, or added since): move them with az batch job set --pool-id ${c.replacementPoolName};`, deleteStep)}`,
      `RUNNING=$(az batch node list --pool-id ${oldPool} --query "length([?state=='running'])" -o tsv)`,
      `[ "$RUNNING" = 0 ] || ${stopLine(`tasks still run on ${c.poolName}; once they finish,`, deleteStep)}`,
      `az batch pool delete --pool-id ${oldPool} --yes`,
    ],
  });
  const deletable = c.observed.filter((o) => deletesCertificate(o));
  if (deletable.length > 0) {
    steps.push({
      label: "Delete the certificates no other pool uses (Batch refuses while a node still holds one: run this step again later then).",
      commands: deletable.map((o) => deleteCertificateCommand(o.certificateId!)),
    });
  }
  return steps;
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
