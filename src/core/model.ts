// The domain of the audit: what we inventory, what we find, and how much of the tenant we could see.
// Pure data; every adapter maps the Azure wire formats into these shapes.

/** Azure Batch retired account certificates on this day (UTC). */
export const RETIREMENT_DATE = "2024-02-29";

export type Tags = Readonly<Record<string, string>>;

/** A value, or one on its way (what the job reads from its ledger while the audit's reads go out). */
export type Awaitable<T> = T | Promise<T>;

export interface SubscriptionInfo {
  subscriptionId: string;
  displayName: string;
  tags: Tags;
}

export interface ResourceGroupInfo {
  /** ARM id, `/subscriptions/{sub}/resourceGroups/{rg}`. */
  id: string;
  subscriptionId: string;
  name: string;
  tags: Tags;
}

export interface BatchAccountInfo {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  tags: Tags;
  /** `properties.poolAllocationMode` ("BatchService" | "UserSubscription"); undefined = not read, null = read and absent. */
  poolAllocationMode?: string | null;
}

/**
 * What the retirement rules read of a pool, normalised from whichever read carried it. For every field: `undefined`
 * (key absent) = the read did not carry this property, so a rule that needs it is "unknown" for the pool;
 * `null` = read, and the pool does not have it. Strings exactly as Azure returned them (compare case-insensitively).
 */
export interface PoolFacts {
  vmSize?: string | null;
  imagePublisher?: string | null;
  imageOffer?: string | null;
  imageSku?: string | null;
  /** virtualMachineConfiguration.imageReference.id (custom / gallery image). */
  imageId?: string | null;
  nodeAgentSkuId?: string | null;
  /** deploymentConfiguration.cloudServiceConfiguration.osFamily; null when the pool is a VM-configuration pool. */
  cloudServiceOsFamily?: string | null;
  targetNodeCommunicationMode?: string | null;
  currentNodeCommunicationMode?: string | null;
  targetLowPriorityNodes?: number | null;
  currentLowPriorityNodes?: number | null;
  autoScaleFormula?: string | null;
  applicationLicenses?: string[] | null;
  publicIpProvision?: string | null;
  /** The account's location (region), for region-dependent dates. */
  location?: string | null;
}

export interface PoolCertificateReference {
  /** The id exactly as the pool holds it (may be malformed or differ in case). */
  id: string;
  storeLocation?: string;
  storeName?: string;
  visibility?: string[];
}

/** Where a pool's certificate references were read. */
export type PoolEvidenceSource = "batch-api" | "resource-graph";

export interface PoolInfo {
  id: string;
  name: string;
  accountId: string;
  subscriptionId: string;
  resourceGroup: string;
  accountName: string;
  certificateReferences: PoolCertificateReference[];
  /** The sources that reported these references; absent means Resource Graph (the inventory's own rows). */
  sources?: PoolEvidenceSource[];
  /** Set when the Batch API and Resource Graph disagree about this pool's references. */
  disagreement?: string;
  /**
   * The pool's ARM `properties` (and `identity`) as the Batch management API returned them, plain JSON, when the pool
   * was read there; absent for pools known only from Resource Graph. The migration kit rebuilds the pool from it.
   */
  configuration?: PoolConfiguration;
  /** What the retirement rules read of the pool (src/core/rules); absent = nothing known. */
  facts?: PoolFacts;
}

/** A pool's ARM resource body, wire shape (`properties`, `identity`); nothing secret: Azure never returns secrets. */
export interface PoolConfiguration {
  properties: Record<string, unknown>;
  identity?: Record<string, unknown>;
}

export type CertificateProvisioningState = "Succeeded" | "Deleting" | "Failed" | string;

export interface CertificateDeleteError {
  code: string;
  message: string;
  details?: { code: string; message: string; target?: string }[];
}

export interface AccountCertificate {
  id: string;
  /** `<algorithm>-<thumbprint>`, e.g. `sha1-0a0e4f50...`. */
  name: string;
  accountId: string;
  thumbprint: string;
  thumbprintAlgorithm: string;
  format?: string;
  provisioningState?: CertificateProvisioningState;
  provisioningStateTransitionTime?: string;
  deleteCertificateError?: CertificateDeleteError;
  /** ISO date-time of the certificate's notAfter, when publicData parsed as X.509. */
  expiresOn?: string;
}

export type Severity = "critical" | "warning";
/**
 * What a finding is about: an account certificate, a pool referencing certificates, or (`pool`) a pool another
 * retirement rule found (which rule: `Finding.rule`).
 */
export type FindingKind = "account-certificate" | "pool-certificate-reference" | "pool";

/** Where a finding's deadline came from: Azure's `batchSupportEndOfLife`, the rule's catalogue date, or configuration. */
export type DeadlineSource = "azure" | "catalogue" | "configuration";

export interface ResolvedReference extends PoolCertificateReference {
  /** `<algorithm>-<thumbprint>` taken from the trailing `certificates/<name>` segment, lower-cased. */
  certificateName?: string;
  /** Whether the account holds a certificate of that name; "unknown" when its certificates could not be read. */
  resolves: boolean | "unknown";
}

export interface OwnerAddress {
  address: string;
  /** Where the address came from, e.g. `account tag "owner"`, `fallback`. */
  source: string;
  /** For an address an owner tag named: which tag and what it held, as fingerprints (see TagNaming). */
  namedBy?: TagNaming;
}

/**
 * An owner tag as it stood when it named an address, as two fingerprints (src/core/fingerprint.ts): `tag` of the
 * scope and key (the resource id and tag key, lower-cased), `value` of the tag and its exact value. A message records
 * the namings of its owner, so a later run can tell whether the tag that named a bounced address has changed since
 * (an undeliverable mark clears when it has). Fingerprints, not values: the ledger keeps no tag text.
 */
export interface TagNaming {
  tag: string;
  value: string;
}

/** An owner tag whose value named no usable address, or only some: which entries and a corrected value to set. */
export interface OwnerTagFix {
  level: "account" | "resource group" | "subscription";
  /** The tagged resource (account, resource group or `/subscriptions/{id}`), for `az tag update --resource-id`. */
  resourceId: string;
  /** Its name, for wording. */
  name: string;
  /** The tag key as it is on the resource. */
  key: string;
  /** The value as read (control characters shown as `?`, capped). */
  value: string;
  /** Each rejected entry and why. */
  invalid: { entry: string; reason: "not-an-address" | "non-ascii-domain" | "control-characters" }[];
  /** The value with each rejected entry replaced by `<corrected-address>`; the valid entries are kept. */
  corrected: string;
}

export interface Finding {
  /** Stable across runs: `<rule>:<lower-cased resource id>`. */
  id: string;
  kind: FindingKind;
  /**
   * The retirement rule that found it (src/core/rules), e.g. `account-certificate`, `windows-server-2016-image`. Set
   * on every finding the audit makes; optional in the type only for findings built by hand (then `kind` is the rule).
   */
  rule?: string;
  /** YYYY-MM-DD the rule's countdown runs towards for this finding (region-dependent for some VM sizes). */
  deadline?: string;
  /** Days from the report's `asOf` to `deadline`: negative when overdue. */
  daysLeft?: number;
  /** Where `deadline` came from. */
  deadlineSource?: DeadlineSource;
  /** Present (false) when Azure has not confirmed the date: the catalogue's best reading, to be checked. */
  deadlineConfirmed?: false;
  severity: Severity;
  resourceId: string;
  subscriptionId: string;
  subscriptionName?: string;
  resourceGroup: string;
  accountName: string;
  accountId: string;
  poolName?: string;
  /** For account-certificate findings. */
  certificate?: AccountCertificate & { referencedByPools: string[] };
  /** For pool findings. */
  references?: ResolvedReference[];
  /** For pool findings: which sources reported the references (the Batch API, Resource Graph or both). */
  sources?: PoolEvidenceSource[];
  /** For pool findings: how the two sources disagreed, when they did. */
  sourceNote?: string;
  /** Human sentence on what is wrong here; for example that a delete is blocked by nodes. */
  detail: string;
  /** Filled in by owner resolution (owner-reminders). */
  owners?: OwnerAddress[];
  ownerProblems?: string[];
  /** Owner tags on the way to the owner whose value was (partly) not a usable address: told to the owner with a fix. */
  ownerTagFixes?: OwnerTagFix[];
  snoozedUntil?: string;
  /** For pool findings: the replacement pool and the steps to move to it (src/core/migrationKit.ts). */
  migration?: MigrationKit;
  /**
   * Set on a finding this run could not check (its account, subscription or rule could not be read or judged): it is
   * carried from the ledger as last seen, stays open and is reminded as before, saying so (schema 1.3).
   */
  notRechecked?: NotRechecked;
}

/** Why an open finding could not be checked this run, and when it was last seen. */
export interface NotRechecked {
  /** YYYY-MM-DD of the last run that saw it. */
  lastSeen: string;
  reason: string;
}

/** What an owner needs to replace one pool: the PUT body of its replacement, the commands, and what to fill in. */
export interface MigrationKit {
  poolName: string;
  replacementPoolName: string;
  /** File name for the body (`az rest --body @<file>`), unique per pool within a run. */
  fileName: string;
  /** OS the Key Vault extension was chosen for. */
  os: "windows" | "linux" | "unknown";
  /** The PUT body (api-version `apiVersion`); absent when the pool's configuration could not be read. */
  replacementPool?: Record<string, unknown>;
  apiVersion: string;
  /** Why there is no body (e.g. the pool is known only from Resource Graph). */
  unavailable?: string;
  /** Placeholders left in the body or commands (`<REPLACE: ...>`), each once. */
  placeholders: string[];
  /** What the owner must know or decide (Cer certificates, task auto-users, a cloud-service pool's new image). */
  notes: string[];
  /** What would make the replacement fail as it stands: the pool's image is outside what the Key Vault extension supports. */
  warnings: string[];
  /** The shell variables the script (and the digest's commands) start with: configured values or placeholders. */
  variables: { name: string; value: string }[];
  /** The az CLI sequence, one command per entry (comments start with `#`). */
  commands: string[];
  /** Certificates the new pool observes in Key Vault: secret name and the old reference's id. */
  certificates: { secretName: string; referenceId: string; inAccount: boolean | "unknown"; format?: string; certificateId?: string; deletedByKit?: boolean }[];
}

export type ScopeStatus = "audited" | "failed";

export interface ScopeCoverage {
  id: string;
  status: ScopeStatus;
  /** Why a scope failed: status code and message, never empty for a failure. */
  reason?: string;
}

/**
 * Where an account's pool certificate references came from. `not-needed`: the account's certificate list was read
 * and is empty, and Batch refuses to delete a certificate a pool still references, so no pool can reference one.
 */
export type PoolCoverageSource = "batch-api" | "resource-graph" | "not-needed" | "failed";

export interface AccountCoverage extends ScopeCoverage {
  name: string;
  subscriptionId: string;
  /** "unknown" when the certificate list could not be read; a count otherwise. */
  certificates: number | "unknown";
  /** Where the pools' certificate references came from; "failed" (with `poolsReason`) when no source could say. */
  pools: PoolCoverageSource;
  /** Why the pools could not be read (or why a fallback was used). */
  poolsReason?: string;
  /** Names of the account's pools the Batch API listed already on the Key Vault extension, with no certificates (absent: none). */
  migratedPools?: string[];
}

export interface Coverage {
  complete: boolean;
  subscriptions: (ScopeCoverage & { displayName?: string })[];
  accounts: readonly AccountCoverage[];
  /** Problems that are not tied to one subscription or account (a truncated query, a failed query batch). */
  problems: string[];
  /**
   * Per rule and account: pools the rule could not judge because the reads did not carry a property it needs (e.g.
   * Resource Graph's rows at an api-version without node communication modes). Those pools are neither affected nor
   * clean; their open findings stay open.
   */
  unjudged?: readonly UnjudgedRule[];
  /** Azure's `batchSupportEndOfLife` per region read (or not: then VM-size rules used the catalogue's date). */
  vmSizeEndOfLife?: RegionRead[];
  /**
   * Set once when Azure refused the certificate API's api-version as retired: no account's certificates (nor pool
   * references) could be read, said here once instead of as a failure per account.
   */
  certificateApiRetired?: string;
}

export interface UnjudgedRule {
  rule: string;
  accountId: string;
  /** Pools of the account the rule could not judge. */
  pools: number;
  /** The facts that were not carried. */
  missing: string[];
  reason: string;
}

export interface RegionRead {
  /** Lower-cased ARM location. */
  location: string;
  status: "read" | "failed";
  /** VM sizes with an end of support that Azure listed (when read). */
  sizesWithEndOfLife?: number;
  /** Why it could not be read; the catalogue's dates were used there. */
  reason?: string;
}

export interface ReportSummary {
  findings: number;
  critical: number;
  warning: number;
  accountCertificates: number;
  poolsWithCertificates: number;
  /**
   * Pools the Batch API listed that already use the Key Vault VM extension and no certificates: migrated, not
   * findings. Counted where pools were read (accounts that still have certificates, or whose list failed).
   */
  poolsMigrated?: number;
  accountsAudited: number;
  accountsFailed: number;
  subscriptionsAudited: number;
  subscriptionsFailed: number;
  /** Open findings per rule id (every enabled rule, 0 when it found nothing). */
  byRule?: Record<string, number>;
  /** Of `findings`, those carried as last seen because this run could not check them (`findings[].notRechecked`; 1.3). */
  notRechecked?: number;
}

/**
 * Findings per deflated page of the report's list. A page is made as one JSON text: at a kilobyte or two a finding, 64
 * keep it under V8's largest young-generation object (128 KiB), where 500 made each a large object that only a full
 * collection frees (about 90 MB of them at once at 100,000 accounts: docs/benchmarks.md, twenty-second pass). Small
 * pages suit the sending too, which reads each rendered digest's findings back by position.
 */
export const FINDINGS_PAGE_SIZE = 64;

export const REPORT_SCHEMA_VERSION = "1.3";

/** A rule as the report states it once (findings carry only its id): what an owner reads is rendered from this. */
export interface ReportRule {
  id: string;
  title: string;
  /** The rule's own deadline (a finding may carry a regional one from Azure). */
  deadline: string;
  deadlineSource: DeadlineSource;
  deadlineConfirmed: boolean;
  /** Earlier dates Azure gives (e.g. "no new pools"), oldest first. */
  milestones?: { date: string; what: string }[];
  severity: Severity;
  steps: string[];
  guideUrl: string;
  /** Where the date and detector come from (URLs). */
  sources: string[];
  /** True for a rule from RULES_FILE. */
  custom?: boolean;
}

export interface AuditReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  generatedAt: string;
  /** The day the audit is "as of" (UTC, YYYY-MM-DD). */
  asOf: string;
  retirementDate: string;
  /** The deadline reminders count towards: the retirement date or MIGRATION_DEADLINE. */
  deadline: string;
  /** Positive after the deadline (overdue), negative before it (days left). */
  daysSinceDeadline: number;
  daysSinceRetirement: number;
  tenantId?: string;
  coverage: Coverage;
  summary: ReportSummary;
  /** The rules this audit ran (enabled ones), soonest deadline first. */
  rules?: ReportRule[];
  findings: Finding[];
  /** Set by a full run (not by a bare audit): what the ledger saw resolved, and what was sent. */
  run?: RunSection;
}

/** Messages planned and not sent yet, and when, at the current limits, the sending timer will have sent them. */
export interface OutboxBacklog {
  /** Deferred (did not fit the limits or the run's time) or waiting for an earlier message's status. */
  messages: number;
  /** Owners those messages are about (admin summaries aside). */
  owners: number;
  /** Of them, owners never told anything yet: they go first. */
  neverTold: number;
  /** When the last of them goes out at `limits` on SEND_SCHEDULE; absent when empty or not within 60 days. */
  eta?: string;
  /** The runs that takes. */
  runs?: number;
  /** EMAIL_PER_MINUTE and EMAIL_PER_HOUR, as the estimate took them. */
  limits: { perMinute: number; perHour: number };
}

export interface DeliverySummary {
  accepted: number;
  delivered: number;
  failed: number;
  undelivered: { recipient: string; status: string; at: string; details?: string }[];
}

export interface RunSection {
  runId: string;
  trigger: "timer" | "http" | "cli";
  sendMode: "dry-run" | "redirect" | "live";
  resolvedSinceLastRun: { findingId: string; kind: string; resourceId: string; accountName: string; resolvedOn: string }[];
  /** Open findings per day, from the ledger, oldest first. */
  history: { date: string; open: number; critical: number; warning: number; migrated?: number }[];
  reminders: {
    planned: number;
    sent: number;
    alreadySent: number;
    deferred: number;
    failed: { recipient: string; error: string }[];
    /** Not sent: the recipient does not pass today's ALLOWED_RECIPIENT_DOMAINS. */
    refused: { recipient: string; reason: string }[];
    /** Not sent yet: an earlier message to the same recipient has no final status. */
    awaiting: number;
    /** Reminders in the ledger dated after `asOf` (a run with a later date): not counted as sent on this run. */
    futureDated: number;
    /** `unknown`: not found within the grace, or not read this run (status-read budget); kept pending, not counted as sent. */
    recovered: { sent: number; failed: number; abandoned: number; unknown: number };
    /** Why sending stopped for this run (a 429 with a long or no Retry-After); the rest was deferred to the next run. */
    throttled?: string;
    /**
     * What the mail service reported of the messages it accepted (delivery reports through Event Grid): `accepted` has
     * no report yet; `undelivered` lists the recent ones that ended other than Delivered.
     */
    delivery?: DeliverySummary;
    /** Pending messages whose status could not be read this run; they stay pending. */
    lookupFailed?: { recipient: string; operationId: string; error: string }[];
    /** What this run left to send and when the sending timer will have sent it (not in a dry run). */
    backlog?: OutboxBacklog;
    messages: { kind: string; recipient: string; subject: string; outcome: string }[];
  };
}
