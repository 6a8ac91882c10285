// The ports the audit use case depends on. Adapters in src/azure implement them over the Azure SDKs;
// tests implement them with hand-written fakes.
import type { AccountCertificate, BatchAccountInfo, PoolCertificateReference, PoolInfo, ResourceGroupInfo, SubscriptionInfo, TagNaming } from "./model.js";
import type { AccessDirectory } from "./owners.js";
import type { ReminderHistory } from "./schedule.js";

/** What to audit. Both lists empty: every subscription the identity can read. */
export interface AuditScope {
  subscriptions: readonly string[];
  managementGroups: readonly string[];
}

/** Something that makes the inventory incomplete, e.g. a failed or truncated query batch. */
export interface InventoryProblem {
  reason: string;
  /** The subscriptions it affects, when known; absent when it affects the whole scope. */
  subscriptionIds?: string[];
}

export interface TenantInventory {
  subscriptions: SubscriptionInfo[];
  resourceGroups: ResourceGroupInfo[];
  accounts: BatchAccountInfo[];
  /**
   * Every pool Resource Graph lists, with the certificate references its rows carry (none when a row has no
   * `certificates`) and the facts the rules read (`PoolInfo.facts`).
   */
  pools: PoolInfo[];
  problems: InventoryProblem[];
}

/** Per-run options of a read: `signal` aborts once the run's time budget is spent (its reason says so). */
export interface ReadOptions {
  signal?: AbortSignal;
}

export interface VmSizeLifecycleReader {
  /**
   * Batch's end of support per VM size in one region (Location_ListSupportedVirtualMachineSkus,
   * capabilities/`batchSupportEndOfLife`): lower-cased VM size name -> YYYY-MM-DD. Read once per region per run.
   * Throws an AuditError when unreadable (the rules then fall back to the catalogue's date, and say so).
   */
  readEndOfLife(subscriptionId: string, location: string, options?: ReadOptions): Promise<Map<string, string>>;
}

/**
 * Told of the inventory's rows as their pages arrive. `accounts`: every Batch account (each once), before any pool.
 * `pools`: when given, the pools are handed over page by page and not kept in the inventory (its `pools` stays empty,
 * and a pool a page repeats is handed over again: the listener keeps what it needs, once per id), so that nobody holds
 * every pool of a large tenant at once.
 */
export interface InventoryListener {
  accounts?: (accounts: BatchAccountInfo[]) => void;
  pools?: (pools: PoolInfo[]) => void;
}

export interface InventoryReader {
  /** `listener` as a function is told of accounts only. */
  readInventory(scope: AuditScope, listener?: InventoryListener | ((accounts: BatchAccountInfo[]) => void), options?: ReadOptions): Promise<TenantInventory>;
}

export interface CertificateLister {
  /** Every certificate of the account; throws an AuditError saying why when they cannot be read. */
  listCertificates(account: BatchAccountInfo, options?: ReadOptions): Promise<AccountCertificate[]>;
}

/**
 * The account's pools with their certificate references, read from Batch management at an api-version whose pool
 * contract still carries `certificates` (so a pool without the key has none). Throws an AuditError when unreadable.
 */
export interface PoolLister {
  listPools(account: BatchAccountInfo, options?: ReadOptions): Promise<PoolInfo[]>;
}

/** A pool as Resource Graph reports it: its references, or "not-reported" when the row has no `certificates` key. */
export interface ReportedPool extends Omit<PoolInfo, "certificateReferences"> {
  certificateReferences: PoolCertificateReference[] | "not-reported";
}

/**
 * Resource Graph's pools of some accounts (keyed by lower-cased account id), the fallback when the Batch API could
 * not list them. Throws when the query failed; an account with no rows gets an empty list (never read as "no pools").
 */
export interface AccountPoolReader {
  readAccountPools(accounts: readonly BatchAccountInfo[], options?: ReadOptions): Promise<Map<string, ReportedPool[]>>;
}

/** Where an account sits, for reading who holds roles over it. */
export interface AccountScope {
  accountId: string;
  subscriptionId: string;
  resourceGroup: string;
}

/**
 * Who holds the named roles at these accounts' scopes and above (Resource Graph's role assignments and definitions)
 * and who those principals are (Microsoft Graph). Returns `unavailable` with the reason, rather than throwing, when
 * they could not be read: owner resolution then goes on without roles.
 */
export interface AccessReader {
  readAccess(accounts: readonly AccountScope[], roleNames: readonly string[], options?: ReadOptions): Promise<AccessDirectory>;
}

export interface AuditProgress {
  phase: "inventory" | "certificates" | "pools" | "done";
  done: number;
  total: number;
}

/** One message to one recipient (never a shared To list). */
export interface OutgoingEmail {
  /** Deterministic: the same reminder always has the same id, so a resend after a crash can be recognised. */
  operationId: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Files sent with the message (Communication Services Email `attachments`), e.g. a migration kit. */
  attachments?: EmailAttachment[];
}

/** As the Communication Services Email send request takes it (EmailAttachment: name, contentType, contentInBase64). */
export interface EmailAttachment {
  name: string;
  contentType: string;
  contentInBase64: string;
}

/**
 * `Accepted`: the service answered 202 and owns the message; its final status comes later, as a delivery report.
 * `Running`/`Succeeded`/`Failed`: what a status read says of the operation.
 */
export type DeliveryStatus = "Accepted" | "Succeeded" | "Failed" | "Running";

export interface DeliveryResult {
  status: DeliveryStatus;
  /** Why a send failed, e.g. `EmailDropped: ...`. */
  error?: string;
}

export interface EmailSender {
  /**
   * Sends once and answers Accepted on the service's 202, without polling. Throws an AuditError with code
   * EMAIL.SEND_FAILED (retryable when throttled) when the service did not accept the message.
   */
  send(email: OutgoingEmail): Promise<DeliveryResult>;
  /** What the service knows of an operation, without sending; "NotFound" when it does not know the id (now). */
  lookup(operationId: string): Promise<DeliveryResult | { status: "NotFound" }>;
}

/**
 * The final per-recipient statuses of `Microsoft.Communication.EmailDeliveryReportReceived` (Microsoft Learn, "Azure
 * Communication Services - Email events"; `AcsEmailDeliveryReportStatus` in @azure/eventgrid-system-events).
 * "Any value other than Delivered is considered failed."
 */
export const DELIVERY_REPORT_STATUSES = ["Delivered", "Bounced", "Suppressed", "Quarantined", "FilteredSpam", "Failed"] as const;
export type DeliveryReportStatus = (typeof DELIVERY_REPORT_STATUSES)[number];

/** One recipient's delivery report, as the Event Grid event's `data` carries it. */
export interface DeliveryReport {
  /** The message id, which is the operation id the send was given. */
  messageId: string;
  recipient: string;
  status: DeliveryReportStatus;
  /** `deliveryStatusDetails.statusMessage`. */
  details?: string;
  /** `deliveryAttemptTimeStamp`: when the service tried to deliver (ISO date-time). */
  at: string;
}

export interface RunLockHandle {
  release(): Promise<void>;
  /** False once the lock could not be renewed: another run may hold it now, so this one must stop sending. */
  held(): boolean;
}

/** Who holds the run lock: its run id, when it took the lock (if known), and how soon the lock frees itself if that run is gone. */
export interface RunLockHeld {
  heldBy: string;
  since?: string;
  freesWithinSeconds?: number;
}

/** Only one run at a time, across processes and hosts. */
export interface RunLock {
  /** The lock, or who holds it. */
  acquire(runId: string): Promise<RunLockHandle | RunLockHeld>;
}

/** A message the ledger knows about: recorded as an intent before it is sent, with its outcome after. */
export interface OutboxEntry {
  /** Deterministic id, also given to the mail service. */
  operationId: string;
  kind: "digest" | "escalation" | "all-clear" | "admin-summary";
  /** The address the message goes to (in redirect mode, the redirect address). */
  recipient: string;
  /** The owner the message is about. */
  owner: string;
  asOf: string;
  runId: string;
  /** The reminders the message carries; delivered, they move the owner's histories on. */
  items: { findingId: string; milestone: string }[];
  /** `sent`: accepted by the mail service (202); `delivery` says what became of it. */
  status: "pending" | "sent" | "failed" | "abandoned";
  error?: string;
  /** When the entry last changed (ISO date-time). */
  updatedAt: string;
  /** The recipient's delivery report, once one arrived: the first final status is kept, later ones change nothing. */
  delivery?: { status: DeliveryReportStatus; at: string; details?: string };
  /**
   * The owner tags that named the owner on this message's findings (at most MAX_NAMINGS_PER_MESSAGE). Absent on
   * messages not planned from owner tags, and on entries written before it existed.
   */
  namedBy?: TagNaming[];
}

/** A stored message as `outboxStatuses` reads it: who it is to and about, its day, and what became of it. */
export type OutboxStatus = Pick<OutboxEntry, "operationId" | "kind" | "recipient" | "owner" | "asOf" | "status" | "delivery">;

/** What the ledger keeps about each finding across runs. */
export interface FindingState {
  findingId: string;
  kind: string;
  resourceId: string;
  accountId: string;
  accountName: string;
  subscriptionId: string;
  severity: string;
  owners: string[];
  firstSeen: string;
  /**
   * The day of the last tracking that saw it. Stored only when something else about the finding changes, or when it
   * stops being seen (`notSeenSince`): an open state seen again as it was is not written, and the ledger gives the
   * day of its last tracking for it (`asTracked`).
   */
  lastSeen: string;
  /**
   * Open, and not seen by the trackings since this day (its account, subscription or rule could not be read or
   * judged, or the run no longer saw its scope): `lastSeen` is exactly as stored. Absent on a state seen by the last
   * tracking.
   */
  notSeenSince?: string;
  resolvedOn?: string;
}

export interface RunRecord {
  /** YYYY-MM-DD; the last run of a day stands for the day. */
  date: string;
  runId: string;
  open: number;
  critical: number;
  warning: number;
  resolved: number;
  complete: boolean;
  completedAt: string;
  /** Pools already migrated to the Key Vault extension that day (summary.poolsMigrated); absent in older records. */
  migrated?: number;
}

export interface OutboxFilter {
  status?: OutboxEntry["status"];
  /** A day (YYYY-MM-DD): messages whose `asOf` is that day or later. */
  since?: string;
  /** With `since`: pending messages of any day too. */
  orPending?: boolean;
}

/** The memory across runs that makes reminders at-least-once and idempotent. */
export interface ReminderLedger {
  /** Keyed by `historyKey(ownerAddress, findingId)`. */
  histories(): Promise<Map<string, ReminderHistory>>;
  /** Deletes these histories (keys as `histories` gives them; no longer read: sendReminders); one already gone is no error. */
  forgetHistories(keys: readonly string[]): Promise<void>;
  /**
   * Messages of the mode; `status`: only those; `since` (a day): only those of runs on that day or later (`asOf`). The
   * outbox keeps every message ever sent, so a run reads only the days it needs: at 100,000 accounts a week of
   * reminders is about 8,000 messages, each with its items, and a year of them would not fit the instance.
   */
  outbox(filter?: OutboxFilter): Promise<OutboxEntry[]>;
  /**
   * The same messages as `outbox`, each without its items and namings (most of a stored message): what sending reads
   * of the messages of the last weeks. A week after a first day that sent to every owner, reading them whole twice in
   * the sending stage raised the 100,000-account job's heap by tens of MB each time.
   */
  outboxStatuses(filter?: OutboxFilter): Promise<OutboxStatus[]>;
  /**
   * Records the intent to send. An abandoned entry with that id (it never reached the mail service) becomes
   * pending again; "exists" when a pending, sent or failed entry with that id is already there.
   */
  recordIntent(entry: OutboxEntry): Promise<"recorded" | "exists">;
  /** Records the outcome; when sent, moves the histories of the entry's items on (idempotently) first. */
  recordOutcome(entry: OutboxEntry, outcome: { status: "sent" | "failed" | "abandoned"; error?: string }, at: string): Promise<void>;
  /**
   * Records a delivery report against the message (`messageId` = operation id). Idempotent: once the message has a
   * final status, a duplicate, late or out-of-order report changes nothing ("unchanged"); "unknown" when no message
   * has that id (another app's mail on the same resource).
   */
  recordDelivery(report: DeliveryReport): Promise<"recorded" | "unchanged" | "unknown">;
  /**
   * Status reads (Get Email Status) recorded by batches whose last read was after that time, so the hourly read limit
   * holds across runs. Shared by the live and redirect ledgers: the limit is the mail service's, not the mode's.
   */
  statusReadsSince(isoTime: string): Promise<number>;
  /** Records a batch of status reads (one per recovery; `batch` unique to it): `count` so far, the last at `at`. */
  recordStatusReads(batch: string, count: number, at: string): Promise<void>;
  /**
   * When each message accepted by the mail service since that time was recorded as accepted (ISO date-times,
   * ascending), for pacing to the limits across runs. Shared by the live and redirect ledgers, like the status reads:
   * EMAIL_PER_MINUTE and EMAIL_PER_HOUR are the mail resource's, whatever mode sent.
   */
  acceptedSince(isoTime: string): Promise<string[]>;
  /** Every finding's state, `lastSeen` as `asTracked` gives it by the day the last tracking recorded. */
  findingStates(): Promise<FindingState[]>;
  /**
   * Writes these states; then, given `trackedOn`, records it as the day of the last tracking: every open state without
   * `notSeenSince` was seen that day, written or not. A stop in between leaves the day before, which understates when
   * the states not written were last seen, never overstates it.
   */
  saveFindingStates(states: FindingState[], trackedOn?: string): Promise<void>;
  /** Deletes these findings' states (resolved long ago: trackFindings); one already gone is no error. */
  forgetFindingStates(findingIds: readonly string[]): Promise<void>;
  recordRun(run: RunRecord): Promise<void>;
  runHistory(): Promise<RunRecord[]>;
}
