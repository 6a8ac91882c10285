// Who gets told about a finding: the owner addresses nearest to the Batch account.
// Tag values are written by anyone with Tag Contributor on a resource, so they are hostile input:
// nothing here trusts a value before it has passed the checks below, and every rejection is reported
// so an administrator can fix the tag instead of mail silently going nowhere (or somewhere wrong).
import type { OwnerAddress, Tags } from "./model.js";

export interface OwnerPolicy {
  /** Tag keys that name an owner, matched case-insensitively (Azure treats tag keys that way). */
  ownerTagKeys: string[];
  /** Used when no level yields a valid owner. */
  fallbackContacts: string[];
  /** Recipient domains mail may go to; subdomains are allowed too. Empty means any domain. */
  allowedRecipientDomains: string[];
  /**
   * Addresses (lower-case) whose mail last ended Bounced, Suppressed or Failed, within UNDELIVERABLE_RETRY_DAYS:
   * never accepted as owners while marked, so the next level of the chain is told instead.
   */
  undeliverable?: ReadonlyMap<string, UndeliverableMark>;
}

/** What the delivery report said of an address's last message. */
export interface UndeliverableMark {
  status: string;
  /** When delivery was attempted (ISO date-time). */
  at: string;
  details?: string;
}

/** "undeliverable: Bounced on 2026-11-26: 550 5.1.1 ..." */
export function describeUndeliverable(mark: UndeliverableMark): string {
  return `undeliverable: ${mark.status} on ${mark.at.slice(0, 10)}${mark.details ? `: ${quoteForProblem(mark.details, 200)}` : ""}`;
}

export interface OwnerLevels {
  account: Tags;
  accountId: string;
  resourceGroup?: Tags;
  resourceGroupId?: string;
  subscription?: Tags;
  subscriptionId?: string;
}

export interface OwnerResolution {
  owners: OwnerAddress[];
  problems: string[];
}

/** One tag value may name a team, not a mailing list: past this many entries the rest is dropped so a tag cannot fan out mail. */
export const MAX_ADDRESSES_PER_VALUE = 20;

// RFC 5321 limits.
const MAX_LOCAL_LENGTH = 64;
const MAX_ADDRESS_LENGTH = 254;

// C0 controls (includes CR, LF, TAB, NUL), DEL, C1 controls and the Unicode line/paragraph separators:
// any of them in a value means it was crafted or corrupted, and some would split a mail header.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const SEPARATORS = /[,;\s]+/;

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
  /** "account", "resource group", "subscription". */
  label: string;
  tags: Tags | undefined;
  resourceId: string | undefined;
}

interface ValueOutcome {
  owners: OwnerAddress[];
  problems: string[];
}

function parseValue(value: string, source: string, where: string, allowed: readonly string[], undeliverable?: OwnerPolicy["undeliverable"]): ValueOutcome {
  const owners: OwnerAddress[] = [];
  const problems: string[] = [];
  if (CONTROL_CHARS.test(value)) {
    // Rejected whole: a value with CR/LF may be an attempt at header injection, and splitting it would
    // hand the attacker whichever fragment still looks like an address.
    problems.push(`${where}: value contains control characters (CR, LF, NUL or similar) and was ignored`);
    return { owners, problems };
  }
  const tokens = value.split(SEPARATORS).filter((t) => t.length > 0);
  const considered = tokens.slice(0, MAX_ADDRESSES_PER_VALUE);
  if (tokens.length > considered.length) {
    problems.push(
      `${where}: ${tokens.length} addresses in one value; only the first ${MAX_ADDRESSES_PER_VALUE} were considered, ${tokens.length - considered.length} ignored`,
    );
  }
  for (const token of considered) {
    const check = checkAddress(token);
    if (!check.ok) {
      problems.push(
        check.reason === "non-ascii-domain"
          ? `${where}: '${quoteForProblem(token)}' has a non-ASCII domain (possible look-alike) and was ignored`
          : `${where}: '${quoteForProblem(token)}' is not a valid email address`,
      );
      continue;
    }
    const domain = check.address.slice(check.address.lastIndexOf("@") + 1);
    if (!isDomainAllowed(domain, allowed)) {
      problems.push(`${where}: '${quoteForProblem(check.address)}' is outside ALLOWED_RECIPIENT_DOMAINS`);
      continue;
    }
    const mark = undeliverable?.get(check.address.toLowerCase());
    if (mark) {
      problems.push(`${where}: '${quoteForProblem(check.address)}' ${describeUndeliverable(mark)}; not mailed, the next level is told`);
      continue;
    }
    owners.push({ address: check.address, source });
  }
  return { owners, problems };
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
 * Nearest level wins: account tags, then resource group, then subscription, then fallback contacts.
 * Within a level every configured owner key counts (an "owner" and a "TechnicalContact" tag are both
 * owners when both keys are configured). A level is used when it yields at least one valid address;
 * problems found on the way are reported whether or not a level was used.
 */
export function resolveOwners(levels: OwnerLevels, policy: OwnerPolicy): OwnerResolution {
  const allowed = normaliseAllowedDomains(policy.allowedRecipientDomains);
  const wantedKeys = new Set(policy.ownerTagKeys.map((k) => k.trim().toLowerCase()).filter((k) => k.length > 0));
  const problems: string[] = [];
  const chain: LevelInput[] = [
    { label: "account", tags: levels.account, resourceId: levels.accountId },
    { label: "resource group", tags: levels.resourceGroup, resourceId: levels.resourceGroupId },
    {
      label: "subscription",
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
      const outcome = parseValue(value, source, where, allowed, policy.undeliverable);
      found.push(...outcome.owners);
      problems.push(...outcome.problems);
    }
    if (found.length > 0) return { owners: dedupe(found), problems };
  }

  const fallback: OwnerAddress[] = [];
  for (const contact of policy.fallbackContacts) {
    const outcome = parseValue(contact, "fallback", "fallback contacts", allowed, policy.undeliverable);
    fallback.push(...outcome.owners);
    problems.push(...outcome.problems);
  }
  const owners = dedupe(fallback);
  if (owners.length === 0) {
    problems.push(`no valid owner address for ${quoteForProblem(levels.accountId, 300)}: no owner tag on the account, resource group or subscription, and no usable fallback contact`);
  }
  return { owners, problems };
}
