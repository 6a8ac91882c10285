// A digest's length cap: the most urgent accounts in full (their items, plan and commands), the rest summarised one
// line per account, and every item in an attached CSV. Without it a fallback contact or a platform team in a big
// tenant gets one mail per day listing hundreds of items: megabytes of HTML that Gmail clips after about 102 KB
// (Google Workspace Admin Help, "Gmail clips messages larger than 102KB"; the clipped part, with its links and the
// footer's snooze instructions, is hidden behind "View entire message"), and the job's largest render.
import type { DigestAccountGroup, DigestItem, DigestPlan, DigestSubscriptionGroup } from "../core/digestPlan.js";

/** Items shown in full by default: about 75 KB of HTML with the footer, under Gmail's clip with room to spare. */
export const DEFAULT_ITEMS_IN_FULL = 20;
/** Accounts the summary of the rest names one per line; beyond them a count and the CSV. */
export const SUMMARY_ACCOUNTS = 20;

export interface SummarisedAccount {
  accountId: string;
  accountName: string;
  resourceGroup: string;
  subscriptionId: string;
  subscriptionName?: string;
  critical: number;
  warning: number;
  due: number;
}

export interface DigestSplit {
  /** The plan's groups with only what is shown in full. */
  groups: DigestSubscriptionGroup[];
  /** Items shown in full. */
  shown: DigestItem[];
  /** Items not shown in full (they are in the CSV), and how many accounts hold them. */
  hiddenItems: number;
  /** Accounts wholly summarised, most urgent first (at most SUMMARY_ACCOUNTS; `moreAccounts` counts the rest). */
  summarised: SummarisedAccount[];
  moreAccounts: number;
  /** When the most urgent account alone holds more than the cap: its name and the items of it left out. */
  cutAccount?: { accountName: string; hidden: number };
}

/**
 * Splits a plan into what is shown in full and what is summarised. Whole accounts are shown, most urgent first (an
 * account's rank is that of its most urgent item), while their items fit in `itemsInFull`; the first account that
 * does not fit ends the full part, so a less urgent account is never shown in full before a more urgent one. When
 * the most urgent account alone is over the cap, its first `itemsInFull` items (most urgent first) are shown.
 */
export function splitDigest(plan: DigestPlan, itemsInFull: number = DEFAULT_ITEMS_IN_FULL): DigestSplit {
  const cap = Math.max(1, Math.floor(itemsInFull));
  if (plan.items.length <= cap) return { groups: plan.groups, shown: plan.items, hiddenItems: 0, summarised: [], moreAccounts: 0 };

  const accounts = new Map<string, { group: DigestAccountGroup; sub: DigestSubscriptionGroup }>();
  for (const sub of plan.groups) for (const group of sub.accounts) accounts.set(group.accountId.toLowerCase(), { group, sub });
  // Urgency order of accounts: first seen in the plan's items, which are most urgent first.
  const order: string[] = [];
  const seen = new Set<string>();
  for (const item of plan.items) {
    const key = item.finding.accountId.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      order.push(key);
    }
  }

  const full = new Map<string, DigestItem[]>();
  let used = 0;
  let cutAccount: DigestSplit["cutAccount"];
  for (const key of order) {
    const { group } = accounts.get(key)!;
    if (used + group.items.length <= cap) {
      full.set(key, group.items);
      used += group.items.length;
      continue;
    }
    if (used === 0) {
      full.set(key, group.items.slice(0, cap));
      used = cap;
      cutAccount = { accountName: group.accountName, hidden: group.items.length - cap };
    }
    break;
  }

  const groups: DigestSubscriptionGroup[] = [];
  for (const sub of plan.groups) {
    const shownAccounts = sub.accounts.filter((a) => full.has(a.accountId.toLowerCase())).map((a) => ({ ...a, items: full.get(a.accountId.toLowerCase())! }));
    if (shownAccounts.length > 0) groups.push({ ...sub, accounts: shownAccounts });
  }
  const shownIds = new Set([...full.values()].flat().map((i) => i.finding.id));
  const shown = plan.items.filter((i) => shownIds.has(i.finding.id));

  const rest = order.filter((key) => !full.has(key)).map((key) => summarise(accounts.get(key)!));
  const split: DigestSplit = {
    groups,
    shown,
    hiddenItems: plan.items.length - shown.length,
    summarised: rest.slice(0, SUMMARY_ACCOUNTS),
    moreAccounts: Math.max(0, rest.length - SUMMARY_ACCOUNTS),
  };
  if (cutAccount) split.cutAccount = cutAccount;
  return split;
}

function summarise({ group, sub }: { group: DigestAccountGroup; sub: DigestSubscriptionGroup }): SummarisedAccount {
  const out: SummarisedAccount = {
    accountId: group.accountId,
    accountName: group.accountName,
    resourceGroup: group.resourceGroup,
    subscriptionId: sub.subscriptionId,
    critical: group.items.filter((i) => i.finding.severity === "critical").length,
    warning: group.items.filter((i) => i.finding.severity !== "critical").length,
    due: group.items.filter((i) => i.decision.due).length,
  };
  if (sub.subscriptionName !== undefined) out.subscriptionName = sub.subscriptionName;
  return out;
}
