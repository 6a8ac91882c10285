// Who gets told about a finding: the owner addresses nearest to the Batch account.
// Tag values are written by anyone with Tag Contributor on a resource, so they are hostile input:
// nothing here trusts a value before it has passed the checks below, and every rejection is reported
// so an administrator can fix the tag instead of mail silently going nowhere (or somewhere wrong).
import { lastSegment } from "./certificateReference.js";
import { fingerprint } from "./fingerprint.js";
import type { OwnerAddress, OwnerTagFix, TagNaming, Tags } from "./model.js";

export interface OwnerPolicy {
  /** Tag keys that name an owner, matched case-insensitively (Azure treats tag keys that way). */
  ownerTagKeys: string[];
  /** Used when no level yields a valid owner. */
  fallbackContacts: string[];
  /** Recipient domains mail may go to; subdomains are allowed too. Empty means any domain. */
  allowedRecipientDomains: string[];
  /** The order owner sources are tried in (OWNER_SOURCES); absent means tags only. */
  sources?: readonly OwnerSource[];
  /** Role definition names whose holders are owners (OWNER_ROLE_NAMES), matched case-insensitively. */
  roleNames?: readonly string[];
  /**
   * Addresses (lower-case) whose mail last ended Bounced, Suppressed or Failed, within UNDELIVERABLE_RETRY_DAYS:
   * never accepted as owners while marked (see markHolds), so the next level of the chain is told instead.
   */
  undeliverable?: ReadonlyMap<string, UndeliverableMark>;
}

/** What the delivery report said of an address's last message. */
export interface UndeliverableMark {
  status: string;
  /** When delivery was attempted (ISO date-time). */
  at: string;
  details?: string;
  /** The day (its run's as-of day) of the message that bounced. */
  sentOn?: string;
  /**
   * The owner tags that named the address on the message that bounced. Absent (or empty) when no tag did (a role
   * holder, a fallback contact, an all-clear) or the ledger entry predates it: the mark then holds wherever the
   * address appears, until UNDELIVERABLE_RETRY_DAYS or a later Delivered.
   */
  namedBy?: readonly TagNaming[];
  /** Tags among `namedBy` that a later message saw holding another value: changed since the bounce. */
  changedTags?: readonly string[];
}

/** Which owner tag named an address and what it held, as fingerprints (the ledger keeps no tag text). */
export function tagNaming(scopeId: string, key: string, value: string): TagNaming {
  const tag = `${scopeId.toLowerCase()}|${key.trim().toLowerCase()}`;
  return { tag: fingerprint(tag), value: fingerprint(`${tag}|${value}`) };
}

/**
 * Whether a mark keeps an address from being an owner where `naming` (the tag that names it now, if a tag does) names
 * it. The mark clears where the tag value that named the address when its mail bounced has changed since: the tag now
 * holds another value, or held another one on a run in between (another value, then the old one again, is a change).
 * "Changed" is any edit of the value, letter case and spacing included, since the tag is the owner's to fix; an edit
 * that leaves the value exactly as it was cannot be told from no edit. A tag that did not name the address then, a
 * role, a fallback contact, or a mark from an older entry leave it standing.
 */
export function markHolds(mark: UndeliverableMark, naming: TagNaming | undefined): boolean {
  if (!naming || !mark.namedBy || mark.namedBy.length === 0) return true;
  if (mark.changedTags?.includes(naming.tag)) return false;
  const then = mark.namedBy.filter((n) => n.tag === naming.tag);
  return then.length === 0 || then.some((n) => n.value === naming.value);
}

/** "undeliverable: Bounced on 2026-11-26: 550 5.1.1 ..." */
export function describeUndeliverable(mark: UndeliverableMark): string {
  return `undeliverable: ${mark.status} on ${mark.at.slice(0, 10)}${mark.details ? `: ${quoteForProblem(mark.details, 200)}` : ""}`;
}

/** `tags`: owner tags up the chain; `roles`: holders of OWNER_ROLE_NAMES at the account's scope and above. */
export type OwnerSource = "tags" | "roles";

export interface OwnerLevels {
  account: Tags;
  accountId: string;
  resourceGroup?: Tags;
  resourceGroupId?: string;
  subscription?: Tags;
  subscriptionId?: string;
  /** Names used to say where a role is held ("subscription sub-research"); ids are used when absent. */
  accountName?: string;
  resourceGroupName?: string;
  subscriptionName?: string;
  /** Who holds roles at the account's scopes, when role-based owners were read. */
  access?: AccessDirectory;
}

/** A role assignment whose role definition name is known. */
export interface OwnerRoleAssignment {
  /** The scope as ARM gives it: a management group, subscription, resource group or resource id. */
  scope: string;
  roleName: string;
  principalId: string;
  principalType: string;
}

/** A Microsoft Graph directory object, reduced to what owner resolution needs. */
export type DirectoryPrincipal =
  | { kind: "user"; id: string; mail?: string; userPrincipalName?: string; accountEnabled?: boolean; userType?: string }
  | {
      kind: "group";
      id: string;
      displayName?: string;
      mail?: string;
      mailEnabled?: boolean;
      /** Transitive member ids, as far as they were read. */
      members?: string[];
      /** Why the member list is incomplete (capped, or unreadable). */
      membersNote?: string;
    }
  | { kind: "servicePrincipal"; id: string; displayName?: string; servicePrincipalType?: string }
  | { kind: "other"; id: string; odataType: string };

/** Role holders at the scopes of the accounts being resolved, read once per run. */
export interface AccessDirectory {
  /** Assignments of the owner roles (others may be present; they are ignored). */
  assignments: readonly OwnerRoleAssignment[];
  /** Keyed by lower-cased object id; members of groups included. */
  principals: ReadonlyMap<string, DirectoryPrincipal>;
  /** The management groups above each subscription (lower-cased id), nearest first. */
  managementGroups: ReadonlyMap<string, readonly { name: string; displayName?: string }[]>;
  /** Set when role holders could not be read (Graph failed, permission missing): roles are skipped with this reason. */
  unavailable?: string;
}

export interface OwnerResolution {
  owners: OwnerAddress[];
  problems: string[];
  /** Owner tags read on the way whose value had entries that are not addresses: what to set instead. */
  tagFixes: OwnerTagFix[];
}

/** Stands for each rejected entry in a corrected tag value. */
export const CORRECTED_ADDRESS = "<corrected-address>";

/** One tag value may name a team, not a mailing list: past this many entries the rest is dropped so a tag cannot fan out mail. */
export const MAX_ADDRESSES_PER_VALUE = 20;

// RFC 5321 limits.
const MAX_LOCAL_LENGTH = 64;
const MAX_ADDRESS_LENGTH = 254;

// C0 controls (includes CR, LF, TAB, NUL), DEL, C1 controls and the Unicode line/paragraph separators:
// any of them in a value means it was crafted or corrupted, and some would split a mail header.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

// A deliberately narrow dot-atom: no quoted strings, comments, display names or IP literals.
const LOCAL_PART = /^[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

export type AddressCheck =
  | { ok: true; address: string }
  | { ok: false; reason: "invalid" | "non-ascii-domain" };

/**
 * Conservative address check. Returns the address with its domain lower-cased (the local part keeps
 * its case: it is the mailbox owner's to interpret). Non-ASCII domains are refused outright rather
 * than IDN-normalised: a Cyrillic "о" in contoso.com is a look-alike, and no tenant we serve mails
 * internationalised domains.
 */
export function checkAddress(raw: string): AddressCheck {
  const candidate = raw.trim();
  if (candidate.length === 0 || candidate.length > MAX_ADDRESS_LENGTH) return { ok: false, reason: "invalid" };
  const at = candidate.lastIndexOf("@");
  if (at <= 0 || at !== candidate.indexOf("@")) return { ok: false, reason: "invalid" };
  const local = candidate.slice(0, at);
  const domain = candidate.slice(at + 1).toLowerCase();
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\u007f]/.test(domain)) return { ok: false, reason: "non-ascii-domain" };
  if (local.length > MAX_LOCAL_LENGTH || !LOCAL_PART.test(local)) return { ok: false, reason: "invalid" };
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l))) return { ok: false, reason: "invalid" };
  if (!TOP_LEVEL.test(labels[labels.length - 1] ?? "")) return { ok: false, reason: "invalid" };
  return { ok: true, address: `${local}@${domain}` };
}

export function isValidAddress(raw: string): boolean {
  return checkAddress(raw).ok;
}

/** Lower-case, drop a leading "@" or "." and a trailing "." so `@Contoso.com.` and `contoso.com` mean the same. */
export function normaliseAllowedDomains(domains: readonly string[]): string[] {
  const out = new Set<string>();
  for (const d of domains) {
    const n = d.trim().toLowerCase().replace(/^[@.]+/, "").replace(/\.+$/, "");
    if (n.length > 0) out.add(n);
  }
  return [...out];
}

/** Exact domain or a subdomain of it; `contoso.com.evil.io` is neither of `contoso.com`. */
export function isDomainAllowed(domain: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const d = domain.toLowerCase();
  return allowed.some((a) => d === a || d.endsWith(`.${a}`));
}

/** Makes untrusted text safe to quote inside a problem message (which lands in logs and the admin mail). */
export function quoteForProblem(s: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "?");
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

interface LevelInput {
  label: OwnerTagFix["level"];
  /** The resource's name, for wording. */
  name: string;
  tags: Tags | undefined;
  resourceId: string | undefined;
}

interface ValueOutcome {
  owners: OwnerAddress[];
  problems: string[];
  /** Entries that are not addresses at all (wrong domain or a bounce are not the tag writer's typo). */
  invalid: OwnerTagFix["invalid"];
}

function parseValue(
  value: string,
  source: string,
  where: string,
  allowed: readonly string[],
  undeliverable?: OwnerPolicy["undeliverable"],
  naming?: TagNaming,
): ValueOutcome {
  const owners: OwnerAddress[] = [];
  const problems: string[] = [];
  const invalid: OwnerTagFix["invalid"] = [];
  if (CONTROL_CHARS.test(value)) {
    // Rejected whole: a value with CR/LF may be an attempt at header injection, and splitting it would
    // hand the attacker whichever fragment still looks like an address.
    problems.push(`${where}: value contains control characters (CR, LF, NUL or similar) and was ignored`);
    invalid.push({ entry: quoteForProblem(value), reason: "control-characters" });
    return { owners, problems, invalid };
  }
  const tokens = valueEntries(value);
  const considered = tokens.slice(0, MAX_ADDRESSES_PER_VALUE);
  if (tokens.length > considered.length) {
    problems.push(
      `${where}: ${tokens.length} addresses in one value; only the first ${MAX_ADDRESSES_PER_VALUE} were considered, ${tokens.length - considered.length} ignored`,
    );
  }
  const notAddresses: string[] = [];
  for (const token of considered) {
    const check = checkAddress(token);
    if (!check.ok && check.reason === "invalid") {
      // Said once per value below, with the resource named once, whatever the number of entries.
      notAddresses.push(`'${quoteForProblem(token)}'`);
      invalid.push({ entry: quoteForProblem(token), reason: "not-an-address" });
      continue;
    }
    const accepted = acceptAddress(token, source, where, allowed, undeliverable, naming);
    if ("problem" in accepted) {
      problems.push(accepted.problem);
      if (!check.ok) invalid.push({ entry: quoteForProblem(token), reason: "non-ascii-domain" });
    } else owners.push(accepted.owner);
  }
  if (notAddresses.length > 0) {
    problems.push(
      notAddresses.length === 1
        ? `${where}: ${notAddresses[0]} is not a valid email address`
        : `${where}: ${notAddresses.join(", ")} are not valid email addresses`,
    );
  }
  return { owners, problems, invalid };
}

/**
 * The entries of an owner tag value: split at `,` and `;`, and within those at spaces, except that words without an
 * `@` next to each other stay one entry: `risk team (ask Bob)` is one bad value, not four.
 */
function valueEntries(value: string): string[] {
  const entries: string[] = [];
  for (const chunk of value.split(/[,;]+/)) {
    let words: string[] = [];
    for (const token of chunk.split(/\s+/).filter((t) => t.length > 0)) {
      if (token.includes("@")) {
        if (words.length > 0) entries.push(words.join(" "));
        words = [];
        entries.push(token);
      } else words.push(token);
    }
    if (words.length > 0) entries.push(words.join(" "));
  }
  return entries;
}

/** The value with each rejected entry replaced by the placeholder; a value rejected whole becomes the placeholder. */
function correctedValue(value: string, invalid: OwnerTagFix["invalid"]): string {
  if (invalid.some((i) => i.reason === "control-characters")) return CORRECTED_ADDRESS;
  const rejected = new Set(invalid.map((i) => i.entry));
  const tokens = valueEntries(value);
  const kept = [...new Set(tokens.slice(0, MAX_ADDRESSES_PER_VALUE).map((t) => (rejected.has(quoteForProblem(t)) ? CORRECTED_ADDRESS : t)))];
  return kept.join(";");
}

/**
 * The one place an address becomes an owner, whatever its source (tag, role holder, fallback): a valid address in
 * an allowed domain, or the reason it is not. `naming`: the owner tag the address came from, if it came from one.
 */
function acceptAddress(
  raw: string,
  source: string,
  where: string,
  allowed: readonly string[],
  undeliverable?: OwnerPolicy["undeliverable"],
  naming?: TagNaming,
): { owner: OwnerAddress } | { problem: string } {
  const check = checkAddress(raw);
  if (!check.ok) {
    return {
      problem:
        check.reason === "non-ascii-domain"
          ? `${where}: '${quoteForProblem(raw)}' has a non-ASCII domain (possible look-alike) and was ignored`
          : `${where}: '${quoteForProblem(raw)}' is not a valid email address`,
    };
  }
  const domain = check.address.slice(check.address.lastIndexOf("@") + 1);
  if (!isDomainAllowed(domain, allowed)) return { problem: `${where}: '${quoteForProblem(check.address)}' is outside ALLOWED_RECIPIENT_DOMAINS` };
  // Its mail last bounced (or was suppressed, or failed for good): not mailed while marked, the next level is told.
  const mark = undeliverable?.get(check.address.toLowerCase());
  if (mark && markHolds(mark, naming)) {
    return { problem: `${where}: '${quoteForProblem(check.address)}' ${describeUndeliverable(mark)}; not mailed, the next level is told` };
  }
  return { owner: { address: check.address, source, ...(naming ? { namedBy: naming } : {}) } };
}

function dedupe(owners: readonly OwnerAddress[]): OwnerAddress[] {
  const seen = new Set<string>();
  const out: OwnerAddress[] = [];
  for (const o of owners) {
    const key = o.address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(o);
  }
  return out;
}

/**
 * Sources in OWNER_SOURCES order (tags only by default). Tags: nearest level wins, account, then resource group, then
 * subscription; within a level every configured owner key counts (an "owner" and a "TechnicalContact" tag are both
 * owners when both keys are configured). Roles: holders of OWNER_ROLE_NAMES at the account, then its resource group,
 * its subscription and its management groups, nearest first. Then fallback contacts. A level is used when it yields
 * at least one valid address; problems found on the way are reported whether or not a level was used.
 */
export function resolveOwners(levels: OwnerLevels, policy: OwnerPolicy): OwnerResolution {
  const allowed = normaliseAllowedDomains(policy.allowedRecipientDomains);
  const problems: string[] = [];
  const tagFixes: OwnerTagFix[] = [];
  const sources = policy.sources ?? ["tags"];
  for (const source of sources) {
    const found = source === "tags" ? tagOwners(levels, policy, allowed, problems, tagFixes) : roleOwners(levels, policy, allowed, problems);
    if (found.length > 0) return { owners: dedupe(found), problems, tagFixes };
  }

  const fallback: OwnerAddress[] = [];
  for (const contact of policy.fallbackContacts) {
    const outcome = parseValue(contact, "fallback", "fallback contacts", allowed, policy.undeliverable);
    fallback.push(...outcome.owners);
    problems.push(...outcome.problems);
  }
  const owners = dedupe(fallback);
  if (owners.length === 0) {
    const tried = sources.includes("roles")
      ? "no owner tag on the account, resource group or subscription, no usable holder of an owner role at those scopes or above"
      : "no owner tag on the account, resource group or subscription";
    problems.push(`no valid owner address for ${quoteForProblem(levels.accountId, 300)}: ${tried}, and no usable fallback contact`);
  }
  return { owners, problems, tagFixes };
}

function tagOwners(levels: OwnerLevels, policy: OwnerPolicy, allowed: readonly string[], problems: string[], tagFixes: OwnerTagFix[]): OwnerAddress[] {
  const wantedKeys = new Set(policy.ownerTagKeys.map((k) => k.trim().toLowerCase()).filter((k) => k.length > 0));
  const chain: LevelInput[] = [
    { label: "account", name: levels.accountName ?? lastSegment(levels.accountId), tags: levels.account, resourceId: levels.accountId },
    {
      label: "resource group",
      name: levels.resourceGroupName ?? (levels.resourceGroupId ? lastSegment(levels.resourceGroupId) : ""),
      tags: levels.resourceGroup,
      resourceId: levels.resourceGroupId,
    },
    {
      label: "subscription",
      name: levels.subscriptionName ?? levels.subscriptionId ?? "",
      tags: levels.subscription,
      resourceId: levels.subscriptionId === undefined ? undefined : `/subscriptions/${levels.subscriptionId}`,
    },
  ];

  for (const level of chain) {
    if (!level.tags) continue;
    const found: OwnerAddress[] = [];
    // Object.entries keeps insertion order; sort by the configured key order so output is stable.
    const keyOrder = [...wantedKeys];
    const matches = Object.entries(level.tags)
      .filter(([k]) => wantedKeys.has(k.trim().toLowerCase()))
      .sort(([a], [b]) => keyOrder.indexOf(a.trim().toLowerCase()) - keyOrder.indexOf(b.trim().toLowerCase()));
    for (const [key, value] of matches) {
      const source = `${level.label} tag "${quoteForProblem(key, 64)}"`;
      const where = level.resourceId ? `${source} on ${quoteForProblem(level.resourceId, 300)}` : source;
      const naming = level.resourceId === undefined ? undefined : tagNaming(level.resourceId, key, value);
      const outcome = parseValue(value, source, where, allowed, policy.undeliverable, naming);
      found.push(...outcome.owners);
      problems.push(...outcome.problems);
      if (outcome.invalid.length > 0 && level.resourceId) {
        tagFixes.push({
          level: level.label,
          resourceId: level.resourceId,
          name: quoteForProblem(level.name, 200),
          key: quoteForProblem(key, 64),
          value: quoteForProblem(value, 300),
          invalid: outcome.invalid,
          corrected: correctedValue(value, outcome.invalid),
        });
      }
    }
    if (found.length > 0) return found;
  }
  return [];
}

/** The scopes a role assignment can reach the account from, nearest first, each with the words that name it. */
function roleScopes(levels: OwnerLevels, access: AccessDirectory): { id: string; label: string }[] {
  const scopes = [{ id: levels.accountId, label: `Batch account ${levels.accountName ?? lastSegment(levels.accountId)}` }];
  if (levels.resourceGroupId) scopes.push({ id: levels.resourceGroupId, label: `resource group ${levels.resourceGroupName ?? lastSegment(levels.resourceGroupId)}` });
  if (levels.subscriptionId) {
    scopes.push({ id: `/subscriptions/${levels.subscriptionId}`, label: `subscription ${levels.subscriptionName ?? levels.subscriptionId}` });
    for (const mg of access.managementGroups.get(levels.subscriptionId.toLowerCase()) ?? []) {
      scopes.push({ id: `/providers/Microsoft.Management/managementGroups/${mg.name}`, label: `management group ${mg.displayName ?? mg.name}` });
    }
  }
  // The root scope: an assignment at `/` applies to every management group and subscription below it.
  scopes.push({ id: "/", label: "the root scope (/)" });
  return scopes.map((s) => ({ id: s.id, label: quoteForProblem(s.label, 200) }));
}

function roleOwners(levels: OwnerLevels, policy: OwnerPolicy, allowed: readonly string[], problems: string[]): OwnerAddress[] {
  const access = levels.access;
  if (!access) return [];
  if (access.unavailable !== undefined) {
    problems.push(`owners from role assignments were not used for ${quoteForProblem(levels.accountId, 300)}: ${access.unavailable}`);
    return [];
  }
  const roleOrder = (policy.roleNames ?? []).map((r) => r.trim().toLowerCase()).filter((r) => r.length > 0);
  const norm = (scope: string) => scope.toLowerCase().replace(/\/+$/, "");
  for (const scope of roleScopes(levels, access)) {
    const here = access.assignments
      .filter((a) => norm(a.scope) === norm(scope.id) && roleOrder.includes(a.roleName.trim().toLowerCase()))
      .sort(
        (a, b) =>
          roleOrder.indexOf(a.roleName.trim().toLowerCase()) - roleOrder.indexOf(b.roleName.trim().toLowerCase()) ||
          a.principalId.localeCompare(b.principalId),
      );
    const found: OwnerAddress[] = [];
    for (const assignment of here) found.push(...holderAddresses(assignment, scope.label, access, policy, allowed, problems));
    if (found.length > 0) return found;
  }
  return [];
}

/** The addresses one role assignment yields: a user's, a mail-enabled group's, or a group's enabled members'. */
function holderAddresses(
  assignment: OwnerRoleAssignment,
  scopeLabel: string,
  access: AccessDirectory,
  policy: OwnerPolicy,
  allowed: readonly string[],
  problems: string[],
): OwnerAddress[] {
  const role = quoteForProblem(assignment.roleName, 64);
  const holds = `holds ${role} on ${scopeLabel}`;
  const principal = access.principals.get(assignment.principalId.toLowerCase());
  if (!principal) {
    problems.push(`${assignment.principalType} ${quoteForProblem(assignment.principalId)} ${holds} but was not found in Microsoft Entra ID (deleted?); skipped`);
    return [];
  }
  switch (principal.kind) {
    case "user": {
      const outcome = userAddress(principal);
      const who = `user ${quoteForProblem(principal.userPrincipalName ?? principal.id)}`;
      if ("skip" in outcome) {
        problems.push(`${who} ${holds} but ${outcome.skip}; skipped`);
        return [];
      }
      return accepted(acceptAddress(outcome.address, `role ${role} on ${scopeLabel}`, `${who}, who ${holds}`, allowed, policy.undeliverable), problems);
    }
    case "group": {
      const name = quoteForProblem(principal.displayName ?? principal.id);
      if (principal.mailEnabled === true && principal.mail) {
        return accepted(acceptAddress(principal.mail, `group ${name}, which ${holds}`, `group ${name}, which ${holds}`, allowed, policy.undeliverable), problems);
      }
      if (principal.membersNote !== undefined) problems.push(`group ${name}, which ${holds}: ${principal.membersNote}`);
      const found: OwnerAddress[] = [];
      for (const memberId of principal.members ?? []) {
        const member = access.principals.get(memberId.toLowerCase());
        // Nested groups come flattened (transitive members); their users are in this list already.
        if (!member || member.kind === "group") continue;
        const source = `member of ${name}, which ${holds}`;
        if (member.kind !== "user") {
          problems.push(`${describeNonPerson(member)} is a ${source}, but is not a person; skipped`);
          continue;
        }
        const who = `user ${quoteForProblem(member.userPrincipalName ?? member.id)}`;
        const outcome = userAddress(member);
        if ("skip" in outcome) {
          problems.push(`${who} is a ${source}, but ${outcome.skip}; skipped`);
          continue;
        }
        found.push(...accepted(acceptAddress(outcome.address, source, `${who}, a ${source}`, allowed, policy.undeliverable), problems));
      }
      if (found.length === 0) problems.push(`group ${name} ${holds} but has no mail address and no enabled member with a usable address; skipped`);
      return found;
    }
    default:
      problems.push(`${describeNonPerson(principal)} ${holds} but is not a person; skipped`);
      return [];
  }
}

function describeNonPerson(p: DirectoryPrincipal): string {
  if (p.kind === "servicePrincipal") {
    const kind = p.servicePrincipalType === "ManagedIdentity" ? "managed identity" : "service principal";
    return `${kind} ${quoteForProblem(p.displayName ?? p.id)}`;
  }
  if (p.kind === "other") return `directory object ${quoteForProblem(p.id)} (${quoteForProblem(p.odataType)})`;
  return quoteForProblem(p.id);
}

function accepted(outcome: { owner: OwnerAddress } | { problem: string }, problems: string[]): OwnerAddress[] {
  if ("problem" in outcome) {
    problems.push(outcome.problem);
    return [];
  }
  return [outcome.owner];
}

/**
 * A user's mail, else a userPrincipalName that is a routable address: a guest's UPN (`..#EXT#@tenant`) is not, and
 * neither is one on the tenant's onmicrosoft.com domain when the user has no mailbox (no `mail`).
 */
function userAddress(user: Extract<DirectoryPrincipal, { kind: "user" }>): { address: string } | { skip: string } {
  if (user.accountEnabled === false) return { skip: "the account is disabled" };
  if (user.mail) return { address: user.mail };
  const upn = user.userPrincipalName ?? "";
  if (upn.includes("#EXT#") || user.userType === "Guest") return { skip: "is a guest without a mail address" };
  if (upn === "" || /\.onmicrosoft\.com$/i.test(upn) || !checkAddress(upn).ok) return { skip: "has no mail address and no routable user principal name" };
  return { address: upn };
}
