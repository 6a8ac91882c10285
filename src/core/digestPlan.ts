// Which digests go out on a run: one per recipient address, each listing all of that owner's open
// findings, sent only when at least one of them has a reminder due. Pure: the ledger supplies the
// histories, the sender turns plans into mail and records what went out.
import type { Finding, OwnerAddress } from "./model.js";
import { isValidAddress } from "./owners.js";
import { dayNumber, evaluateReminder, type ReminderDecision, type ReminderHistory, type ReminderPolicy } from "./schedule.js";

/** What the planning reads of a finding: a caller that holds its findings deflated plans from these alone. */
export type PlannedFinding = Pick<Finding, "id" | "severity" | "resourceId" | "deadline" | "snoozedUntil" | "owners">;

/** A finding of a digest, with its reminder decision and the owner address it is listed for. */
export interface ItemOf<F extends PlannedFinding> {
  finding: F;
  decision: ReminderDecision;
  /** How this recipient's owner address was found for this finding. */
  owner: OwnerAddress;
}

export type DigestItem = ItemOf<Finding>;

export interface DigestAccountGroup {
  accountId: string;
  accountName: string;
  resourceGroup: string;
  items: DigestItem[];
}

export interface DigestSubscriptionGroup {
  subscriptionId: string;
  subscriptionName?: string;
  accounts: DigestAccountGroup[];
}

export interface DigestPlan {
  /** Who this message goes to: the owner, or for an escalation copy an escalation contact. */
  recipient: string;
  /** `escalation`: a separate copy of the owner's digest for an escalation contact. */
  kind: "owner" | "escalation";
  /** The owner the digest is about (same as `recipient` for kind `owner`). */
  ownerAddress: string;
  asOf: string;
  /** All of the owner's open, not-snoozed findings, most urgent first. */
  items: DigestItem[];
  /** The same items grouped by subscription, then account; groups ordered by their most urgent item. */
  groups: DigestSubscriptionGroup[];
  /** Items whose reminder is due on this run (the ledger records these after sending). */
  dueItems: DigestItem[];
  escalate: boolean;
  /** Most overdue reminder number among due items (0 before the deadline); used to say how long the owner has ignored this. */
  overdueRemindersSent: number;
}

/** A resolved finding and the day it was resolved. */
export type ResolvedFinding = Finding & { resolvedOn?: string };

export interface AllClearPlan {
  recipient: string;
  asOf: string;
  /** Findings resolved on this run that this owner had been told about. */
  resolved: ResolvedFinding[];
}

/** Ledger key for a (recipient, finding) pair. */
export function historyKey(address: string, findingId: string): string {
  return `${address.toLowerCase()}|${findingId}`;
}

/** The finding of a `historyKey` (an owner's address holds no "|": owners.ts takes none). */
export function findingOfHistoryKey(key: string): string {
  return key.slice(key.indexOf("|") + 1);
}

/** Snoozed while `snoozedUntil` is after `asOf`; an unreadable snooze date does not hide a finding. */
export function isSnoozed(finding: Pick<Finding, "snoozedUntil">, asOf: string): boolean {
  if (finding.snoozedUntil === undefined) return false;
  try {
    return dayNumber(finding.snoozedUntil) > dayNumber(asOf);
  } catch {
    return false;
  }
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1 };

/**
 * Most urgent first: the soonest deadline (each rule has its own); then critical before warning; then due before not
 * due; then the longest-ignored (most overdue reminders already sent, then fewest days to deadline); then by resource
 * id and rule so the order is stable across runs.
 */
function compareItems(a: ItemOf<PlannedFinding>, b: ItemOf<PlannedFinding>): number {
  const deadline = (a.finding.deadline ?? "").localeCompare(b.finding.deadline ?? "");
  if (deadline !== 0) return deadline;
  const sev = (SEVERITY_RANK[a.finding.severity] ?? 2) - (SEVERITY_RANK[b.finding.severity] ?? 2);
  if (sev !== 0) return sev;
  if (a.decision.due !== b.decision.due) return a.decision.due ? -1 : 1;
  const overdueA = overdueNumber(a.decision.milestone);
  const overdueB = overdueNumber(b.decision.milestone);
  if (overdueA !== overdueB) return overdueB - overdueA;
  if (a.decision.daysToDeadline !== b.decision.daysToDeadline) return a.decision.daysToDeadline - b.decision.daysToDeadline;
  const ra = a.finding.resourceId.toLowerCase();
  const rb = b.finding.resourceId.toLowerCase();
  if (ra !== rb) return ra < rb ? -1 : 1;
  return a.finding.id < b.finding.id ? -1 : a.finding.id > b.finding.id ? 1 : 0;
}

function overdueNumber(milestone: string): number {
  const m = /^overdue-(\d+)$/.exec(milestone);
  return m ? Number(m[1]) : 0;
}

function groupItems(items: readonly DigestItem[]): DigestSubscriptionGroup[] {
  // Items arrive sorted, so first-seen order of subscriptions and accounts is urgency order.
  const subs = new Map<string, DigestSubscriptionGroup>();
  const accounts = new Map<string, DigestAccountGroup>();
  for (const item of items) {
    const f = item.finding;
    const subKey = f.subscriptionId.toLowerCase();
    let sub = subs.get(subKey);
    if (!sub) {
      sub = { subscriptionId: f.subscriptionId, accounts: [] };
      if (f.subscriptionName !== undefined) sub.subscriptionName = f.subscriptionName;
      subs.set(subKey, sub);
    }
    const accKey = f.accountId.toLowerCase();
    let acc = accounts.get(accKey);
    if (!acc) {
      acc = { accountId: f.accountId, accountName: f.accountName, resourceGroup: f.resourceGroup, items: [] };
      accounts.set(accKey, acc);
      sub.accounts.push(acc);
    }
    acc.items.push(item);
  }
  return [...subs.values()];
}

export function planDigests(
  findings: readonly Finding[],
  histories: ReadonlyMap<string, ReminderHistory>,
  asOf: string,
  policy: ReminderPolicy,
  escalationContacts: readonly string[],
  /** Per finding id, the day it was (last) found open; a finding back after a resolution is due at once. */
  openSince?: ReadonlyMap<string, string>,
): DigestPlan[] {
  return outlineDigests(findings, histories, asOf, policy, escalationContacts, openSince).map(({ items, dueItems: _due, ...head }) => digestPlanOf(head, items));
}

/** A digest as planned: its own fields, its items (most urgent first) and its due items, not yet grouped. */
export interface DigestOutline<F extends PlannedFinding> extends DigestPlanHead {
  items: ItemOf<F>[];
  dueItems: ItemOf<F>[];
}

/**
 * The digests of planDigests, from what the planning reads of each finding (a caller may give stand-ins that carry
 * more, such as where the finding is kept): an owner's digest and its escalation copies share their item lists.
 */
export function outlineDigests<F extends PlannedFinding>(
  findings: Iterable<F>,
  histories: ReadonlyMap<string, ReminderHistory>,
  asOf: string,
  policy: ReminderPolicy,
  escalationContacts: readonly string[],
  openSince?: ReadonlyMap<string, string>,
): DigestOutline<F>[] {
  const byOwner = new Map<string, { address: string; items: ItemOf<F>[]; seen: Set<string> }>();
  for (const finding of findings) {
    if (isSnoozed(finding, asOf)) continue;
    for (const owner of finding.owners ?? []) {
      const key = owner.address.toLowerCase();
      let entry = byOwner.get(key);
      if (!entry) {
        entry = { address: owner.address, items: [], seen: new Set() };
        byOwner.set(key, entry);
      }
      // A finding listed twice (or an owner listed twice on it) is still one item.
      if (entry.seen.has(finding.id)) continue;
      entry.seen.add(finding.id);
      // Each finding counts down to its own rule's deadline (REMINDER_DAYS before it, then the overdue cadence).
      const own = finding.deadline === undefined ? policy : { ...policy, deadline: finding.deadline };
      const decision = evaluateReminder(histories.get(historyKey(owner.address, finding.id)), asOf, own, openSince?.get(finding.id));
      entry.items.push({ finding, decision, owner });
    }
  }

  const contacts = dedupeContacts(escalationContacts);
  const plans: DigestOutline<F>[] = [];
  const owners = [...byOwner.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [ownerKey, entry] of owners) {
    const dueItems = entry.items.filter((i) => i.decision.due);
    if (dueItems.length === 0) continue;
    const items = [...entry.items].sort(compareItems);
    const escalate = dueItems.some((i) => i.decision.escalate);
    const plan: DigestOutline<F> = {
      recipient: entry.address,
      kind: "owner",
      ownerAddress: entry.address,
      asOf,
      escalate,
      overdueRemindersSent: Math.max(0, ...dueItems.map((i) => overdueNumber(i.decision.milestone) - 1)),
      items,
      // In the items' order (most urgent first), as a plan's due items are.
      dueItems: items.filter((i) => i.decision.due),
    };
    plans.push(plan);
    if (!escalate) continue;
    // Escalation: each contact gets the same digest as a message of its own, so no contact sees
    // another's address and a bounce for one does not hold up the rest.
    for (const contact of contacts) {
      if (contact.toLowerCase() === ownerKey) continue;
      plans.push({ ...plan, recipient: contact, kind: "escalation" });
    }
  }
  return plans;
}

/** A plan's own fields: all but its items and what is made of them. */
export type DigestPlanHead = Omit<DigestPlan, "items" | "groups" | "dueItems">;

/** The plan of these items (most urgent first): grouped by subscription, then account, and its due items. */
export function digestPlanOf(head: DigestPlanHead, items: DigestItem[]): DigestPlan {
  return { ...head, items, groups: groupItems(items), dueItems: items.filter((i) => i.decision.due) };
}

function dedupeContacts(contacts: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of contacts) {
    const t = c.trim();
    // Configuration is validated at startup; this only keeps a bad entry from becoming a send.
    if (!isValidAddress(t) || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(t);
  }
  return out;
}

/**
 * The canonical idempotency key of a digest: the same plan on the same day gives the same key, so a
 * resend after a crash reuses the operation id and the mail service de-duplicates it. Pass `hash`
 * (the adapter's sha256) to get a fixed-length id; without it the canonical string is returned.
 */
export function digestOperationId(plan: Pick<DigestOutline<PlannedFinding>, "asOf" | "kind" | "recipient" | "ownerAddress" | "dueItems">, hash?: (s: string) => string): string {
  const due = plan.dueItems.map((i) => `${i.finding.id}@${i.decision.milestone}`).sort();
  const key = ["digest", "v1", plan.asOf, plan.kind, plan.recipient.toLowerCase(), plan.ownerAddress.toLowerCase(), ...due].join("|");
  return hash ? hash(key) : key;
}

export function allClearOperationId(plan: AllClearPlan, hash?: (s: string) => string): string {
  // Each resolution by its day, not the run's: the all-clear for one resolution is one message, whichever run sends
  // it, and a finding resolved again after coming back is a new resolution with a new message.
  const ids = plan.resolved.map((f) => `${f.id}@${f.resolvedOn ?? ""}`).sort();
  const key = ["all-clear", "v3", plan.recipient.toLowerCase(), ...ids].join("|");
  return hash ? hash(key) : key;
}

/**
 * One short "all clear" per owner whose findings were resolved on this run and who has no open finding left.
 * `stillOpenOwners`: the owner addresses of every finding still open, in any case (a snoozed finding is still open, so
 * its owner gets no all-clear); addresses, not findings, so that a caller makes no finding for an open state.
 */
export function planAllClear(resolvedThisRun: readonly ResolvedFinding[], stillOpenOwners: Iterable<string>, asOf: string): AllClearPlan[] {
  const busy = new Set<string>();
  for (const address of stillOpenOwners) busy.add(address.toLowerCase());
  const byOwner = new Map<string, AllClearPlan>();
  for (const f of resolvedThisRun) {
    for (const o of f.owners ?? []) {
      const key = o.address.toLowerCase();
      if (busy.has(key)) continue;
      let plan = byOwner.get(key);
      if (!plan) {
        plan = { recipient: o.address, asOf, resolved: [] };
        byOwner.set(key, plan);
      }
      if (!plan.resolved.some((r) => r.id === f.id)) plan.resolved.push(f);
    }
  }
  return [...byOwner.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}
