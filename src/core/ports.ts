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
