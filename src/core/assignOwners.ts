// Attaches owners (nearest tagged level wins) and snoozes to findings, from the inventory's tags.
import { addDays, daysBetween, isIsoDay } from "./dates.js";
import { indexWanted, resourceGroupId } from "./ids.js";
import type { Finding } from "./model.js";
import { resolveOwners, type AccessDirectory, type OwnerLevels, type OwnerPolicy } from "./owners.js";
import type { TenantInventory } from "./ports.js";

export interface SnoozePolicy {
  tagKey: string;
  reasonTagKey: string;
  /** A snooze further ahead than this is refused (not applied), so a tag cannot silence reminders for ever. */
  maxDays: number;
}

type OwnerInventory = Pick<TenantInventory, "accounts" | "resourceGroups" | "subscriptions">;

export interface OwnerAssignmentPolicy {
  owners: OwnerPolicy;
  snooze: SnoozePolicy;
  asOf: string;
  access?: AccessDirectory;
}

export function assignOwners(findings: Finding[], inventory: OwnerInventory, policy: OwnerAssignmentPolicy): Finding[] {
  return findings.map(ownerAssigner(inventory, OwnerPlaces.of(findings), policy));
}

/**
 * What gives a finding its owners, owner problems and snooze, one finding at a time: resolved once per account (the
 * first finding of it given decides), from the inventory's tags at the places noted.
 */
export function ownerAssigner(inventory: OwnerInventory, places: OwnerPlaces, policy: OwnerAssignmentPolicy): (finding: Finding) => Finding {
  const levelsOf = ownerLevels(inventory, places);
  const cache = new Map<string, Pick<Finding, "owners" | "ownerProblems" | "ownerTagFixes" | "snoozedUntil">>();
  return (finding) => {
    const key = finding.accountId.toLowerCase();
    let resolved = cache.get(key);
    if (!resolved) {
      const levels = levelsOf(finding);
      const owners = resolveOwners({ ...levels, ...(policy.access ? { access: policy.access } : {}) }, policy.owners);
      const snooze = readSnooze(levels.account, policy.snooze, policy.asOf);
      resolved = {
        owners: owners.owners,
        ownerProblems: [...owners.problems, ...snooze.problems],
        ...(owners.tagFixes.length > 0 ? { ownerTagFixes: owners.tagFixes } : {}),
        ...(snooze.until ? { snoozedUntil: snooze.until } : {}),
      };
      cache.set(key, resolved);
    }
    return { ...finding, ...resolved };
  };
}

/** What owner resolution reads of a finding: its account and where that is. */
export type OwnerPlace = Pick<Finding, "accountId" | "accountName" | "subscriptionId" | "subscriptionName" | "resourceGroup">;

/**
 * The places of findings noted one at a time, for owner resolution: the accounts, resource groups and subscriptions
 * whose tags it indexes (at 100,000 accounts an index of the whole inventory, keyed by lower-cased ids, is tens of
 * MB, and findings are on a fraction of the accounts), and per account the first finding's place.
 */
export class OwnerPlaces {
  readonly accounts = new Set<string>();
  readonly groups = new Set<string>();
  readonly subs = new Set<string>();
  /** Per account (lower-cased id): the place of the first of its findings noted. */
  readonly #first = new Map<string, OwnerPlace>();

  static of(findings: Iterable<OwnerPlace>): OwnerPlaces {
    const places = new OwnerPlaces();
    for (const f of findings) places.note(f);
    return places;
  }

  note(f: OwnerPlace): void {
    this.groups.add(groupIdOf(f).toLowerCase());
    this.subs.add(f.subscriptionId.toLowerCase());
    const account = f.accountId.toLowerCase();
    if (this.accounts.has(account)) return;
    this.accounts.add(account);
    const { accountId, accountName, subscriptionId, subscriptionName, resourceGroup } = f;
    this.#first.set(account, { accountId, accountName, subscriptionId, resourceGroup, ...(subscriptionName === undefined ? {} : { subscriptionName }) });
  }

  /** Every account's first place, in the order noted. */
  firstOfEachAccount(): IterableIterator<OwnerPlace> {
    return this.#first.values();
  }
}

/**
 * The findings whose owners role assignments may decide: with tags tried first, those no owner tag names; with roles
 * first, all. Empty when roles are not a source. Role holders are read for these only, so Graph is asked no more than
 * needed.
 */
export function findingsNeedingRoles<P extends OwnerPlace>(findings: readonly P[], inventory: OwnerInventory, policy: OwnerPolicy, places?: OwnerPlaces): P[] {
  const sources = policy.sources ?? ["tags"];
  const rolesAt = sources.indexOf("roles");
  if (rolesAt < 0) return [];
  if (sources.indexOf("tags") < 0 || rolesAt < sources.indexOf("tags")) return [...findings];
  const levelsOf = ownerLevels(inventory, places ?? OwnerPlaces.of(findings));
  const tagsOnly: OwnerPolicy = { ...policy, sources: ["tags"], fallbackContacts: [] };
  return findings.filter((f) => resolveOwners(levelsOf(f), tagsOnly).owners.length === 0);
}

/** The owner levels of a finding, from the inventory's tags, indexed for the places noted only. */
function ownerLevels(inventory: OwnerInventory, wanted: OwnerPlaces): (finding: OwnerPlace) => OwnerLevels {
  const accounts = indexWanted(inventory.accounts, (a) => a.id, wanted.accounts);
  const groups = indexWanted(inventory.resourceGroups, (g) => g.id, wanted.groups);
  const subs = indexWanted(inventory.subscriptions, (s) => s.subscriptionId, wanted.subs);
  return (finding) => {
    const account = accounts.get(finding.accountId.toLowerCase());
    const groupId = groupIdOf(finding);
    const group = groups.get(groupId.toLowerCase());
    const sub = subs.get(finding.subscriptionId.toLowerCase());
    return {
      account: account?.tags ?? {},
      accountId: finding.accountId,
      accountName: finding.accountName,
      // Role assignments name the resource group even when the inventory has no row for it.
      resourceGroupId: group?.id ?? groupId,
      resourceGroupName: group?.name ?? finding.resourceGroup,
      subscriptionId: sub?.subscriptionId ?? finding.subscriptionId,
      ...(sub ? { subscriptionName: sub.displayName } : finding.subscriptionName ? { subscriptionName: finding.subscriptionName } : {}),
      ...(group ? { resourceGroup: group.tags } : {}),
      ...(sub ? { subscription: sub.tags } : {}),
    };
  };
}

function groupIdOf(finding: Pick<Finding, "subscriptionId" | "resourceGroup">): string {
  return resourceGroupId(finding.subscriptionId, finding.resourceGroup);
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
