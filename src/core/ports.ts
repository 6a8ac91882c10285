// The ports the audit use case depends on. Adapters in src/azure implement them over the Azure SDKs;
// tests implement them with hand-written fakes.
import type { AccountCertificate, BatchAccountInfo, PoolInfo, ResourceGroupInfo, SubscriptionInfo } from "./model.js";

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
  /** Pools that reference at least one certificate. */
  pools: PoolInfo[];
  problems: InventoryProblem[];
}

export interface InventoryReader {
  readInventory(scope: AuditScope): Promise<TenantInventory>;
}

export interface CertificateLister {
  /** Every certificate of the account; throws an AuditError saying why when they cannot be read. */
  listCertificates(account: BatchAccountInfo): Promise<AccountCertificate[]>;
}

export interface AuditProgress {
  phase: "inventory" | "certificates" | "done";
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
}

export type DeliveryStatus = "Succeeded" | "Failed" | "Running";

export interface DeliveryResult {
  status: DeliveryStatus;
  /** Why a send failed, e.g. `EmailDropped: ...`. */
  error?: string;
}

export interface EmailSender {
  /**
   * Sends and waits (bounded) for the service's final status. Throws an AuditError with code EMAIL.SEND_FAILED
   * (retryable when throttled) when the service did not accept the message.
   */
  send(email: OutgoingEmail): Promise<DeliveryResult>;
  /** What the service knows of an operation, without sending; "NotFound" when it never received it. */
  lookup(operationId: string): Promise<DeliveryResult | { status: "NotFound" }>;
}
