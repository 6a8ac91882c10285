// Attaches owners (nearest tagged level wins) and snoozes to findings, from the inventory's tags.
import { addDays, daysBetween, isIsoDay } from "./dates.js";
import type { Finding } from "./model.js";
import { resolveOwners, type OwnerPolicy } from "./owners.js";
import type { TenantInventory } from "./ports.js";

export interface SnoozePolicy {
  tagKey: string;
  reasonTagKey: string;
  /** A snooze further ahead than this is refused (not applied), so a tag cannot silence reminders for ever. */
  maxDays: number;
}

export function assignOwners(
  findings: Finding[],
  inventory: Pick<TenantInventory, "accounts" | "resourceGroups" | "subscriptions">,
  policy: { owners: OwnerPolicy; snooze: SnoozePolicy; asOf: string },
): Finding[] {
  const accounts = new Map(inventory.accounts.map((a) => [a.id.toLowerCase(), a]));
  const groups = new Map(inventory.resourceGroups.map((g) => [g.id.toLowerCase(), g]));
  const subs = new Map(inventory.subscriptions.map((s) => [s.subscriptionId.toLowerCase(), s]));
  const cache = new Map<string, Pick<Finding, "owners" | "ownerProblems" | "snoozedUntil">>();

  return findings.map((finding) => {
    const key = finding.accountId.toLowerCase();
    let resolved = cache.get(key);
    if (!resolved) {
      const account = accounts.get(key);
      const groupId = `/subscriptions/${finding.subscriptionId}/resourceGroups/${finding.resourceGroup}`;
      const group = groups.get(groupId.toLowerCase());
      const sub = subs.get(finding.subscriptionId.toLowerCase());
      const owners = resolveOwners(
        {
          account: account?.tags ?? {},
          accountId: finding.accountId,
          ...(group ? { resourceGroup: group.tags, resourceGroupId: group.id } : {}),
          ...(sub ? { subscription: sub.tags, subscriptionId: sub.subscriptionId } : {}),
        },
        policy.owners,
      );
      const snooze = readSnooze(account?.tags ?? {}, policy.snooze, policy.asOf);
      resolved = {
        owners: owners.owners,
        ownerProblems: [...owners.problems, ...snooze.problems],
        ...(snooze.until ? { snoozedUntil: snooze.until } : {}),
      };
      cache.set(key, resolved);
    }
    return { ...finding, ...resolved };
  });
}

function readSnooze(tags: Readonly<Record<string, string>>, policy: SnoozePolicy, asOf: string): { until?: string; problems: string[] } {
  const entry = Object.entries(tags).find(([k]) => k.toLowerCase() === policy.tagKey.toLowerCase());
  if (!entry) return { problems: [] };
  const value = entry[1].trim();
  if (!isIsoDay(value)) return { problems: [`snooze tag "${entry[0]}" is not a date (YYYY-MM-DD); reminders are not held`] };
  if (daysBetween(asOf, value) <= 0) return { problems: [] };
  // Refused, not capped: a cap recomputed from asOf on every run would hold reminders for ever.
  if (daysBetween(addDays(asOf, policy.maxDays), value) > 0) {
    return {
      problems: [`snooze tag "${entry[0]}" (${value}) is more than ${policy.maxDays} days ahead; not applied — set a date within ${policy.maxDays} days`],
    };
  }
  return { until: value, problems: [] };
}
