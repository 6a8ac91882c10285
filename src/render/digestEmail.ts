// Turns digest plans into mail: subject, HTML (MJML, so it survives Outlook and web mail) and plain text.
// Every string that came from Azure (names, tag keys and values, ids, details) is attacker-controlled:
// it is cleaned and HTML-escaped before it goes into the MJML source, because MJML passes entities and
// markup through untouched and does no escaping of its own.
import type { OwnerTagFix, ReportRule } from "../core/model.js";
import { CORRECTED_ADDRESS } from "../core/owners.js";
import { ADMIN_LIST_LIMIT, type AdminSummary, type RenderedEmail } from "../core/sendReminders.js";
import type { AllClearPlan, DigestAccountGroup, DigestItem, DigestPlan } from "../core/digestPlan.js";
import { daysBetween } from "../core/dates.js";
import { accountPlan, shortCertificateName, type PlanStep } from "./accountPlan.js";
import { DEFAULT_ITEMS_IN_FULL, splitDigest, type DigestSplit } from "./digestCap.js";
import { digestCsvAttachment } from "./digestCsv.js";
import { kitAttachments, scriptFileName } from "./migrationFiles.js";
import { placeholder } from "../core/migrationSteps.js";
import { escapeHtml as escapeMarkup } from "./escapeHtml.js";
import { countdownPhrase, formatNumber, longDate, plural, utcTimestamp } from "./format.js";
import { isCertificateFinding, ruleBriefs, ruleHeadline, ruleItemNote, type RuleBrief } from "./ruleSteps.js";

export interface RenderContext {
  asOf: string;
  deadline: string;
  retirementDate: string;
  /** Portal origin for links, e.g. `https://portal.azure.us` in a sovereign cloud; https only. */
  portalBaseUrl?: string;
  /** Link to the full audit report; https only. */
  reportUrl?: string;
  senderName?: string;
  /** The snooze tag key owners are told to set (`SNOOZE_TAG_KEY`); default `SNOOZE_TAG`. */
  snoozeTagKey?: string;
  /** Items a digest shows in full (`DIGEST_ITEMS_IN_FULL`); the rest are summarised and attached as CSV. */
  itemsInFull?: number;
  /** The rules the audit ran (titles, steps, guides); the shipped ones when absent. */
  rules?: readonly ReportRule[];
}

export type { AdminSummary, RenderedEmail };

export const SNOOZE_TAG = "batch-cert-audit-snooze";
export const MIGRATION_GUIDE_URL = "https://learn.microsoft.com/azure/batch/batch-certificate-migration-guide";
export const POOL_EXTENSIONS_URL = "https://learn.microsoft.com/azure/batch/create-pool-extensions";
const DEFAULT_PORTAL = "https://portal.azure.com";
// ---------------------------------------------------------------- escaping

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Bidirectional overrides can make "moc.osotnoc" read as "contoso.com"; they have no business in a name.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes control and bidi-override characters from text that will be displayed. */
function clean(s: string): string {
  return s.replace(CONTROL, "").replace(BIDI, "").replace(/[\u2028\u2029]/g, " ");
}

/** HTML-escapes text (after cleaning) for element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return escapeMarkup(clean(s));
}

/**
 * Makes a string safe for a mail header (subject, display name): every control character, including
 * CR and LF, and the Unicode line separators become a space, bidi overrides are dropped, whitespace is
 * collapsed and the result is capped at `max` characters.
 */
export function sanitizeHeader(s: string, max = 200): string {
  const flat = s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u0085]/g, " ")
    .replace(BIDI, "")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

/** Quotes a value for a POSIX shell command line unless it is plainly safe. */
function shq(s: string): string {
  const c = clean(s);
  return /^[A-Za-z0-9._/:@=+-]+$/.test(c) ? c : `'${c.replace(/'/g, `'\\''`)}'`;
}

function safeHttpsUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    return u.protocol === "https:" ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- wording

/**
 * The deadline a digest leads with: the soonest among the items due on this run (each rule has its own), else the
 * certificate deadline. A digest of certificate items only says what it always said.
 */
function digestDeadline(plan: DigestPlan, ctx: RenderContext): string {
  return plan.dueItems.map((i) => i.finding.deadline ?? ctx.deadline).sort()[0] ?? ctx.deadline;
}

export function digestSubject(plan: DigestPlan, ctx: RenderContext): string {
  const countdown = countdownPhrase(daysBetween(ctx.asOf, digestDeadline(plan, ctx)));
  const what = plan.items.every((i) => isCertificateFinding(i.finding)) ? "certificate" : "retirement";
  const items = plural(plan.items.length, `Azure Batch ${what} item`, `Azure Batch ${what} items`);
  const subject =
    plan.kind === "escalation"
      ? `Escalated: ${plan.ownerAddress} has not acted on ${items}, ${countdown}`
      : `Action needed: ${items}, ${countdown}`;
  return sanitizeHeader(subject, 250);
}

function portalLink(resourceId: string, ctx: RenderContext): string | undefined {
  if (!/^\/subscriptions\//i.test(resourceId)) return undefined;
  const base = (safeHttpsUrl(ctx.portalBaseUrl) ?? DEFAULT_PORTAL).replace(/\/+$/, "");
  // encodeURI keeps the path's slashes and percent-encodes quotes, spaces and angle brackets.
  return `${base}/#@/resource${encodeURI(clean(resourceId))}`;
}

function clipped(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** One short line per finding: what it is and its state; the account's plan says what to do. */
interface ItemLine {
  severity: string;
  /** "Pool", "Certificate". */
  kind: string;
  name: string;
  /** After the name: "uses A, B", "used by pool X · expires 31 March 2027". */
  note: string;
  portal?: string;
}

function referenceName(r: { id: string; certificateName?: string }): string {
  return r.certificateName ?? r.id.split("/").pop() ?? r.id;
}

function itemLine(item: DigestItem, ctx: RenderContext, attachedKits: ReadonlySet<string>): ItemLine {
  const f = item.finding;
  const notes: string[] = [];
  let kind: string;
  let name: string;
  // Carried as last seen: what it was is all that is known; say so first, and nothing this run did not read.
  const carried = f.notRechecked;
  if (carried) notes.push(`not rechecked on ${longDate(ctx.asOf)} (${clipped(carried.reason, 200)}); last seen ${longDate(carried.lastSeen)}`);
  if (f.kind === "pool-certificate-reference" || f.poolName !== undefined) {
    kind = "Pool";
    name = f.poolName ?? f.resourceId.split("/").pop() ?? "";
    if (!carried) {
      const refs = [...new Map((f.references ?? []).map((r) => [referenceName(r).toLowerCase(), r])).values()];
      if (refs.length > 0) notes.push(`uses ${refs.map((r) => shortCertificateName(referenceName(r))).join(", ")}`);
      const missing = refs.filter((r) => r.resolves === false).map((r) => shortCertificateName(referenceName(r)));
      if (missing.length > 0) notes.push(`${missing.join(", ")} not in this account`);
    }
    if (f.migration && attachedKits.has(f.migration.fileName)) notes.push(`kit attached: ${f.migration.fileName}, ${scriptFileName(f.migration)}.txt`);
    if (!isCertificateFinding(f)) notes.push(ruleItemNote(f, ctx.asOf, ctx.rules));
  } else {
    const cert = f.certificate;
    kind = "Certificate";
    name = cert?.name ?? f.resourceId.split("/").pop() ?? "";
    if (!carried) {
      const pools = cert?.referencedByPools ?? [];
      if (cert?.provisioningState === "Deleting") notes.push("deletion in progress");
      else if (cert?.provisioningState === "Failed" && cert.deleteCertificateError) notes.push(`deletion refused (${cert.deleteCertificateError.code})`);
      if (pools.length > 0) notes.push(`used by ${pools.length === 1 ? "pool" : "pools"} ${pools.join(", ")}`);
      else if (f.severity === "warning") notes.push("no pool uses it");
      else notes.push("its pools could not be read");
      if (cert?.expiresOn) notes.push(`expires ${longDate(cert.expiresOn)}`);
    }
  }
  const line: ItemLine = { severity: f.severity, kind, name, note: notes.join(" · ") };
  const portal = portalLink(f.resourceId, ctx);
  if (portal !== undefined) line.portal = portal;
  return line;
}

const REASON_WORDS: Record<OwnerTagFix["invalid"][number]["reason"], string> = {
  "not-an-address": "is not an email address",
  "non-ascii-domain": "has a non-ASCII domain (a possible look-alike)",
  "control-characters": "contains control characters",
};

/** "The owner tag `owner` on account X has `bob@@contoso`, which is not an email address, …" and the command that fixes it. */
function tagFixSentence(fix: OwnerTagFix): { text: string; command: string } {
  const tag = `The owner tag \`${clean(fix.key)}\` on ${fix.level} ${clean(fix.name)}`;
  const only = fix.invalid.length === 1 ? fix.invalid[0] : undefined;
  let text: string;
  if (fix.corrected !== CORRECTED_ADDRESS) {
    // Some entries are addresses: name the ones that are not.
    text = `${tag} is \`${clean(fix.value)}\`: ${fix.invalid.map((i) => `\`${clean(i.entry)}\` ${REASON_WORDS[i.reason]}`).join("; ")}.`;
  } else if (only && (only.reason === "control-characters" || clean(only.entry) === clean(fix.value).trim())) {
    text = `${tag} has \`${clean(only.entry)}\`, which ${REASON_WORDS[only.reason]}, so the tag names nobody.`;
  } else {
    text = `${tag} has \`${clean(fix.value)}\`, which holds no email address, so the tag names nobody.`;
  }
  return {
    text: `${text} Fix it, with the right address for ${CORRECTED_ADDRESS}:`,
    command: `az tag update --resource-id ${shq(fix.resourceId)} --operation Merge --tags ${shq(`${fix.key}=${fix.corrected}`)}`,
  };
}

/** The account's owner tag fixes not already shown for an earlier account (a subscription's tag covers many). */
function tagFixesFor(items: readonly DigestItem[], shown: Set<string>): OwnerTagFix[] {
  const out: OwnerTagFix[] = [];
  for (const fix of items.flatMap((i) => i.finding.ownerTagFixes ?? [])) {
    const key = `${fix.resourceId.toLowerCase()}|${fix.key.toLowerCase()}`;
    if (shown.has(key)) continue;
    shown.add(key);
    out.push(fix);
  }
  return out;
}

/**
 * The account's commands as one block: each step's commands under a `# n. label` comment, in step order. A command
 * already in the block (the `az batch account login` before each pool's delete) is not repeated.
 */
function commandLines(steps: readonly PlanStep[]): string[] {
  const seen = new Set<string>();
  const body = steps.flatMap((s, i) => {
    const fresh = (s.commands ?? []).filter((c) => c.startsWith("#") || !seen.has(c));
    for (const c of fresh) seen.add(c);
    return fresh.some((c) => !c.startsWith("#")) ? [`# ${i + 1}. ${s.label ?? "step"}`, ...fresh] : [];
  });
  // The values the commands use, each set once at the top (the same names and placeholders as the kits' scripts).
  const setup = [...new Set(steps.flatMap((s) => (s.commands?.length ? (s.setup ?? []) : [])))];
  return setup.length > 0 && body.length > 0 ? ["# Fill in first (the same values as at the top of each kit's script):", ...setup, ...body] : body;
}

// ---------------------------------------------------------------- MJML building blocks

const COLORS = {
  ink: "#1f2328",
  muted: "#59636e",
  border: "#d0d7de",
  page: "#f3f4f6",
  brand: "#0f4c81",
  critical: "#b42318",
  warning: "#9a6700",
  codeBg: "#f6f8fa",
};

const CODE_STYLE = `font-family:Consolas,'Courier New',monospace;font-size:12px;line-height:1.45;background:${COLORS.codeBg};border:1px solid ${COLORS.border};border-radius:4px;padding:6px 8px;margin:8px 0 0 0;color:${COLORS.ink};`;
const CODE_LINE_STYLE = "margin:0;padding:0 0 0 16px;text-indent:-16px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;";
const LINK_STYLE = `color:${COLORS.brand};text-decoration:underline;word-break:break-all;`;

function head(title: string, preview: string): string {
  return `<mj-head>
  <mj-title>${escapeHtml(title)}</mj-title>
  <mj-preview>${escapeHtml(preview)}</mj-preview>
  <mj-attributes>
    <mj-all font-family="'Segoe UI', Helvetica, Arial, sans-serif" />
    <mj-text font-size="14px" line-height="1.45" color="${COLORS.ink}" padding="4px 16px" />
    <mj-section padding="0" />
  </mj-attributes>
  <mj-style>
    a { color: ${COLORS.brand}; }
  </mj-style>
</mj-head>`;
}

function banner(headline: string, sub: string, color: string): string {
  return `<mj-section background-color="${color}" padding="12px 0 10px 0">
  <mj-column>
    <mj-text color="#ffffff" font-size="11px" letter-spacing="1px" padding="0 16px 2px 16px">AZURE BATCH CERTIFICATE AUDIT</mj-text>
    <mj-text color="#ffffff" font-size="19px" font-weight="700" line-height="1.3" padding="0 16px 2px 16px">${headline}</mj-text>
    <mj-text color="#ffffff" font-size="13px" padding="0 16px">${sub}</mj-text>
  </mj-column>
</mj-section>`;
}

function textSection(html: string, opts: { bg?: string; padding?: string } = {}): string {
  return `<mj-section background-color="${opts.bg ?? "#ffffff"}" padding="${opts.padding ?? "12px 0"}">
  <mj-column><mj-text>${html}</mj-text></mj-column>
</mj-section>`;
}

/**
 * Commands wrap inside their block, one block line per command: a block that scrolled sideways hid most of each command
 * (up to 1,777 px at 390 px) in every screenshot, and web mail drops `overflow` anyway, so it was clipped there. A soft
 * wrap adds no character, so a copied command is whole; a wrapped line's continuation is indented (a hanging indent),
 * so where each command starts stays visible. One element per line, with no reliance on `white-space:pre` for line
 * breaks (Outlook's Word engine ignores it). The fixed-layout table gives the block a width of its own.
 */
function codeBlock(lines: readonly string[]): string {
  const body = lines.map((l) => `<div style="${CODE_LINE_STYLE}">${escapeHtml(l)}</div>`).join("");
  return `<table role="presentation" cellpadding="0" cellspacing="0" width="100%" style="table-layout:fixed;border-collapse:collapse;"><tr><td><div style="${CODE_STYLE}" class="cmd">${body}</div></td></tr></table>`;
}

function factsTable(facts: readonly [string, string][]): string {
  const rows = facts
    .map(
      ([k, v]) =>
        `<tr><td style="padding:2px 10px 2px 0;color:${COLORS.muted};vertical-align:top;width:110px;">${escapeHtml(k)}</td><td style="padding:2px 0;vertical-align:top;word-break:break-word;overflow-wrap:anywhere;">${escapeHtml(v)}</td></tr>`,
    )
    .join("");
  return `<table role="presentation" cellpadding="0" cellspacing="0" width="100%" style="table-layout:fixed;border-collapse:collapse;font-size:13px;margin:6px 0;">${rows}</table>`;
}

function badge(severity: string): string {
  const color = severity === "critical" ? COLORS.critical : COLORS.warning;
  return `<span style="display:inline-block;background:${color};color:#ffffff;font-size:10px;font-weight:700;letter-spacing:0.5px;padding:1px 5px;border-radius:3px;text-transform:uppercase;vertical-align:1px;">${escapeHtml(severity)}</span>`;
}

/** One Batch account: its items (a line each), its plan (each step once, ./accountPlan.ts), its commands in one block. */
function accountSection(account: { accountName: string; resourceGroup: string }, subscription: string, lines: readonly ItemLine[], steps: readonly PlanStep[], fixes: readonly OwnerTagFix[]): string {
  const items = lines
    .map((l) => {
      const name = l.portal ? `<a href="${escapeHtml(l.portal)}" style="${LINK_STYLE}">${escapeHtml(l.name)}</a>` : `<b>${escapeHtml(l.name)}</b>`;
      return `<div style="margin:5px 0 0 0;overflow-wrap:anywhere;word-break:break-word;">${badge(l.severity)} ${escapeHtml(l.kind)} ${name}${l.note ? `<span style="color:${COLORS.muted};"> · ${escapeHtml(l.note)}</span>` : ""}</div>`;
    })
    .join("");
  const plan =
    steps.length === 0
      ? ""
      : `<p style="margin:10px 0 0 0;"><b>What to do in this account:</b></p><ol style="margin:2px 0 0 0;padding-left:20px;">${steps
          .map(
            (s) =>
              `<li style="margin:3px 0 0 0;overflow-wrap:anywhere;">${escapeHtml(s.text)}${s.link ? ` <a href="${escapeHtml(s.link.url)}" style="${LINK_STYLE}">${escapeHtml(s.link.label)}</a>` : ""}</li>`,
          )
          .join("")}</ol>`;
  const commands = commandLines(steps);
  const fixHtml = fixes
    .map((fix) => {
      const { text, command } = tagFixSentence(fix);
      return `<div style="margin:10px 0 0 0;padding:6px 10px;background:#fff8c5;border-left:3px solid ${COLORS.warning};overflow-wrap:anywhere;">${escapeHtml(text)}${codeBlock([command])}</div>`;
    })
    .join("");
  return `<mj-section background-color="#ffffff" padding="10px 0 12px 0" border-top="1px solid ${COLORS.border}">
  <mj-column><mj-text>
<div style="font-size:16px;font-weight:700;overflow-wrap:anywhere;">${escapeHtml(account.accountName)}</div>
<div style="font-size:12px;color:${COLORS.muted};overflow-wrap:anywhere;">Resource group ${escapeHtml(account.resourceGroup)} · subscription ${subscription}</div>
${items}${plan}${commands.length > 0 ? codeBlock(commands) : ""}${fixHtml}
  </mj-text></mj-column>
</mj-section>`;
}

function footer(ctx: RenderContext, extra: string): string {
  const sender = ctx.senderName ? `Sent by ${escapeHtml(ctx.senderName)}. ` : "";
  return `<mj-section padding="16px 0 24px 0">
  <mj-column>
    <mj-text font-size="12px" color="${COLORS.muted}">${extra}<p style="margin:8px 0 0 0;">${sender}Audit as of ${escapeHtml(longDate(ctx.asOf))}. Azure Batch retired account certificates on ${escapeHtml(longDate(ctx.retirementDate))}. Migration guide: <a href="${MIGRATION_GUIDE_URL}" style="${LINK_STYLE}">${MIGRATION_GUIDE_URL}</a></p></mj-text>
  </mj-column>
</mj-section>`;
}

/**
 * MJML (with its HTML parser, CSS inliner and minifier) is loaded on the first message, not with the app: about 15 MB
 * of heap and 55 MB of resident memory that the audit, which runs first, and a run that sends nothing do without.
 */
const loadMjml = () => import("mjml").then((m) => m.default);
let mjmlLoaded: ReturnType<typeof loadMjml> | undefined;

async function compile(mjml: string): Promise<string> {
  // A failed load is not kept: the next message tries again rather than every later one failing the same way.
  const mjml2html = await (mjmlLoaded ??= loadMjml().catch((error: unknown) => {
    mjmlLoaded = undefined;
    throw error;
  }));
  // No web fonts (mail clients block them, and nothing here should fetch), no includes from disk.
  const result = await mjml2html(mjml, { validationLevel: "strict", fonts: {}, keepComments: false, ignoreIncludes: true });
  return result.html;
}

// ---------------------------------------------------------------- digest

/** Resources named per owner source in "Why you got this"; a platform team's tag may cover hundreds. */
const SOURCE_NAMES = 5;

function namesUpTo(names: readonly string[], max: number): string {
  return names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")} and ${formatNumber(names.length - max)} more`;
}

/** "account tag "owner" on acct1, acct2": the owner source with the resources it was read from. */
function describeSources(plan: DigestPlan): string[] {
  const bySource = new Map<string, Set<string>>();
  for (const { owner, finding: f } of plan.items) {
    const source = clean(owner.source);
    const where = source.startsWith("account ")
      ? f.accountName
      : source.startsWith("resource group ")
        ? f.resourceGroup
        : source.startsWith("subscription ")
          ? (f.subscriptionName ?? f.subscriptionId)
          : "";
    const set = bySource.get(source) ?? new Set<string>();
    if (where) set.add(clean(where));
    bySource.set(source, set);
  }
  return [...bySource].map(([source, where]) =>
    source === "fallback"
      ? "the audit's fallback contacts (no owner tag was found on the account, its resource group or its subscription)"
      : where.size > 0
        ? `${source} on ${namesUpTo([...where], SOURCE_NAMES)}`
        : source,
  );
}

/** Owner sources that come from role assignments (src/core/owners.ts), told as write access. */
const ACCESS_SOURCE = /^(role |member of |group )/;

function whyText(plan: DigestPlan): { sources: string[]; lines: string[] } {
  const sources = describeSources(plan);
  const lines: string[] = [];
  if (plan.kind === "escalation") {
    lines.push(
      `You are an escalation contact. ${clean(plan.ownerAddress)} has received ${plural(plan.overdueRemindersSent, "overdue reminder", "overdue reminders")} for these items without acting; this is the same digest they receive.`,
    );
  }
  const owner = plan.kind === "escalation" ? clean(plan.ownerAddress) : "Your address";
  // A role, group or membership source is said once, in the write-access sentence below.
  const tagged = sources.filter((s) => !ACCESS_SOURCE.test(s));
  if (tagged.length > 0) lines.push(`${owner} was found as the owner in: ${tagged.join("; ")}.`);
  const access = accessWhy(plan);
  if (access.length > 0) lines.push(`${plan.kind === "escalation" ? "They have" : "You have"} write access: ${access.join("; ")}.`);
  return { sources, lines };
}

/**
 * Owners found through role assignments, in words: "you are a member of platform-admins, which holds Owner on
 * subscription sub-research". The owner source already says it (see core/owners.ts); this puts it as a sentence.
 */
function accessWhy(plan: DigestPlan): string[] {
  const them = plan.kind === "escalation";
  const out = new Set<string>();
  for (const { owner } of plan.items) {
    const source = clean(owner.source);
    if (source.startsWith("role ")) out.add(`${them ? "they hold" : "you hold"} ${source.slice("role ".length)}`);
    else if (source.startsWith("member of ")) out.add(`${them ? "they are" : "you are"} a ${source}`);
    else if (source.startsWith("group ")) out.add(`this address is the mailbox of ${source}`);
  }
  return [...out];
}

function stopLines(plan: DigestPlan, ctx: RenderContext): { lines: string[]; snooze: string } {
  const until = "YYYY-MM-DD";
  const accounts = [...new Set(plan.items.map((i) => i.finding.accountId))];
  const target = shq(accounts.length === 1 && accounts[0] ? accounts[0] : placeholder("resource id of the Batch account"));
  const tagKey = ctx.snoozeTagKey ?? SNOOZE_TAG;
  return {
    lines: [
      "Migrate: once a certificate or pool is gone, the next audit drops it and reminders stop.",
      "Not yours? Fix the owner tag on the Batch account (or its resource group or subscription) to name the right people.",
      `Need time? Tag the Batch account ${clean(tagKey)}: ${until} and reminders pause until that day:`,
    ],
    snooze: `az tag update --resource-id ${target} --operation Merge --tags ${shq(`${tagKey}=${until}`)}`,
  };
}

interface AccountView {
  account: DigestAccountGroup;
  /** Its name, or its id when it has none. */
  subscription: string;
  subscriptionId: string;
  lines: ItemLine[];
  steps: PlanStep[];
  fixes: OwnerTagFix[];
}

function accountViews(groups: DigestSplit["groups"], ctx: RenderContext, attachedKits: ReadonlySet<string>): AccountView[] {
  const shownFixes = new Set<string>();
  return groups.flatMap((sub) =>
    sub.accounts.map((account) => ({
      account,
      subscription: clean(sub.subscriptionName ?? sub.subscriptionId),
      subscriptionId: clean(sub.subscriptionId),
      lines: account.items.map((i) => itemLine(i, ctx, attachedKits)),
      steps: accountPlan(account.items.map((i) => i.finding), { attachedKits }),
      fixes: tagFixesFor(account.items, shownFixes),
    })),
  );
}

export async function renderDigest(plan: DigestPlan, ctx: RenderContext): Promise<RenderedEmail> {
  const subject = digestSubject(plan, ctx);
  const { lines: why } = whyText(plan);
  const stop = stopLines(plan, ctx);
  // Every item as CSV, when the digest is capped; past MAX_DIGEST_CSV_BASE64 the list is left to the full report.
  const csv = digestCsvAttachment(plan.items, ctx.asOf);
  const csvFits = csv.contentInBase64.length <= MAX_DIGEST_CSV_BASE64;
  const csvName = csvFits ? `the attached ${csv.name}` : "the full audit report (too many for an attachment)";
  // The item cap bounds the usual digest; long names, many steps or many tag fixes can still push the HTML past
  // Gmail's clip, so the compiled size is checked and the full part shrinks by its last account until it fits.
  let split = splitDigest(plan, ctx.itemsInFull ?? DEFAULT_ITEMS_IN_FULL);
  let built = await digestHtml(plan, ctx, split, subject, why, stop, csvName);
  for (let bytes = Buffer.byteLength(built.html, "utf8"); bytes > DIGEST_HTML_BUDGET_BYTES && split.shown.length > 1; bytes = Buffer.byteLength(built.html, "utf8")) {
    split = splitDigest(plan, smallerCap(split, bytes));
    built = await digestHtml(plan, ctx, split, subject, why, stop, csvName);
  }
  // Bounded apart: the CSV by MAX_DIGEST_CSV_BASE64, the kits by MAX_ATTACHMENT_BYTES; together far under the 10 MB.
  const attachments = [...(split.hiddenItems > 0 && csvFits ? [csv] : []), ...kitAttachments(split.shown.map((i) => i.finding)).attachments];
  const email: RenderedEmail = { subject, html: built.html, text: digestText(plan, ctx, built.views, why, stop, split, csvName, built.attachedKits) };
  if (attachments.length > 0) email.attachments = attachments;
  return email;
}

/**
 * Gmail clips a message whose HTML is over about 102 KB (Google Workspace Admin Help, "Gmail clips messages larger
 * than 102KB"): the footer, with how to stop the reminders, would be behind "View entire message". The budget keeps a
 * margin under it.
 */
export const DIGEST_HTML_BUDGET_BYTES = 92_000;

/**
 * The largest CSV a digest attaches (base64 characters, about 3.7 MB of CSV, some 10,000 items). Communication
 * Services takes at most 10 MB per request, attachments included (Learn: "Service limits for Azure Communication
 * Services", Email); with the kits' 1 MB (MAX_ATTACHMENT_BYTES) and the HTML that leaves room. A longer list is
 * left to the full report.
 */
export const MAX_DIGEST_CSV_BASE64 = 5_000_000;

/**
 * A smaller item cap for a digest `bytes` long: in proportion to the budget (an overestimate, as the header and footer
 * do not shrink), and at least the last account shown in full dropped (or, for one account, half of its items).
 */
function smallerCap(split: DigestSplit, bytes: number): number {
  const accounts = split.groups.flatMap((g) => g.accounts);
  const last = accounts[accounts.length - 1];
  const dropLast = accounts.length > 1 && last ? split.shown.length - last.items.length : Math.floor(split.shown.length / 2);
  return Math.max(1, Math.min(dropLast, Math.floor((split.shown.length * DIGEST_HTML_BUDGET_BYTES) / bytes)));
}

async function digestHtml(
  plan: DigestPlan,
  ctx: RenderContext,
  split: DigestSplit,
  subject: string,
  why: string[],
  stop: { lines: string[]; snooze: string },
  csvName: string,
): Promise<{ html: string; views: AccountView[]; attachedKits: ReadonlySet<string> }> {
  const deadline = digestDeadline(plan, ctx);
  const days = daysBetween(ctx.asOf, deadline);
  const countdown = countdownPhrase(days);
  const critical = plan.items.filter((i) => i.finding.severity === "critical").length;
  const headline =
    plan.kind === "escalation"
      ? `Escalated: ${escapeHtml(plan.ownerAddress)} has not acted`
      : `${escapeHtml(plural(plan.items.length, "item needs", "items need"))} action`;
  const deadlineWord = days < 0 ? `deadline was ${longDate(deadline)}` : `deadline ${longDate(deadline)}`;
  const sub = `${escapeHtml(countdown.charAt(0).toUpperCase() + countdown.slice(1))} · ${escapeHtml(deadlineWord)} · ${escapeHtml(plural(critical, "critical", "critical"))}`;

  const { attachedKits } = kitAttachments(split.shown.map((i) => i.finding));
  const views = accountViews(split.groups, ctx, attachedKits);
  const kits = kitsSentence(split, attachedKits);
  const intro =
    split.hiddenItems > 0
      ? `${introText(ctx, plan)} The ${plural(split.shown.length, "most urgent item", "most urgent items")} of ${formatNumber(plan.items.length)} in full, with what to do per Batch account; the rest after them, and every item in ${csvName}.${kits}`
      : `${introText(ctx, plan)} What to do, per Batch account, is below.${kits}`;
  const sections =
    views.map((v) => accountSection(v.account, escapeHtml(v.subscription), v.lines, v.steps, v.fixes)).join("\n") +
    rulesSection(ruleBriefs(plan.items.map((i) => i.finding), ctx.asOf, ctx.rules)) +
    restSection(split, plan, ctx, csvName);

  const report = safeHttpsUrl(ctx.reportUrl);
  const footerHtml = `<p style="margin:0;"><b>Why you got this:</b> ${why.map(escapeHtml).join(" ")}</p>
<p style="margin:6px 0 0 0;"><b>How to stop it:</b></p><ul style="margin:2px 0 0 0;padding-left:18px;">${stop.lines
    .map((l) => `<li style="margin:2px 0;">${escapeHtml(l)}</li>`)
    .join("")}</ul>${codeBlock([stop.snooze])}${report ? `<p style="margin:8px 0 0 0;"><a href="${escapeHtml(report)}" style="${LINK_STYLE}">Open the full audit report</a></p>` : ""}`;

  const bannerColor = days < 0 || plan.kind === "escalation" ? COLORS.critical : COLORS.brand;
  const mjml = `<mjml lang="en">${head(subject, `${countdown}: ${plural(plan.items.length, "Azure Batch certificate item needs", "Azure Batch certificate items need")} migrating to Key Vault`)}
<mj-body width="640px" background-color="${COLORS.page}">
${banner(headline, sub, bannerColor)}
${textSection(escapeHtml(intro), { padding: "10px 0" })}
${sections}
${footer(ctx, footerHtml)}
</mj-body></mjml>`;
  return { html: await compile(mjml), views, attachedKits };
}

/** Each retirement other than the certificates once: its date and countdown, its steps and guide (./ruleSteps.ts). */
function rulesSection(briefs: readonly RuleBrief[]): string {
  if (briefs.length === 0) return "";
  const rules = briefs
    .map(
      (b) =>
        `<p style="margin:10px 0 0 0;overflow-wrap:anywhere;"><b>${escapeHtml(ruleHeadline(b))}</b></p><ol style="margin:2px 0 0 0;padding-left:20px;">${b.steps
          .map((step) => `<li style="margin:3px 0 0 0;overflow-wrap:anywhere;">${escapeHtml(step)}</li>`)
          .join("")}</ol>${b.guideUrl ? `<p style="margin:2px 0 0 0;"><a href="${escapeHtml(b.guideUrl)}" style="${LINK_STYLE}">Migration guide</a></p>` : ""}`,
    )
    .join("");
  return `\n<mj-section background-color="#ffffff" padding="10px 0 12px 0" border-top="1px solid ${COLORS.border}">
  <mj-column><mj-text>
<div style="font-size:16px;font-weight:700;">What to do per retirement</div>${rules}
  </mj-text></mj-column>
</mj-section>`;
}

/** The same as plain text. */
function rulesText(briefs: readonly RuleBrief[]): string[] {
  if (briefs.length === 0) return [];
  const out = ["== What to do per retirement"];
  for (const b of briefs) {
    out.push(`  ${clean(ruleHeadline(b))}`, ...b.steps.map((step, i) => `    ${i + 1}. ${clean(step)}`));
    if (b.guideUrl) out.push(`    Migration guide: ${b.guideUrl}`);
  }
  return [...out, ""];
}

/** What the rest of a capped digest holds, as sentences and one line per account (most urgent first). */
function restLines(split: DigestSplit, plan: DigestPlan, csvName: string): { lead: string[]; accounts: { text: string; accountId: string }[]; more?: string } {
  const lead: string[] = [];
  if (split.cutAccount) {
    lead.push(
      `${clean(split.cutAccount.accountName)} has ${plural(split.cutAccount.hidden, "more item", "more items")} than the ${plural(split.shown.length, "item", "items")} above; the same steps apply to them, and ${split.cutAccount.hidden === 1 ? "it is" : "they are"} in ${csvName}.`,
    );
  }
  const accountsLeft = split.summarised.length + split.moreAccounts;
  if (accountsLeft > 0) {
    const hiddenHere = split.hiddenItems - (split.cutAccount?.hidden ?? 0);
    lead.push(`${plural(hiddenHere, "more item", "more items")} in ${plural(accountsLeft, "other Batch account", "other Batch accounts")}, most urgent first; the same steps apply, account by account:`);
  }
  const accounts = split.summarised.map((a) => {
    const counts = [a.critical > 0 ? `${formatNumber(a.critical)} critical` : "", a.warning > 0 ? `${formatNumber(a.warning)} warning` : ""].filter(Boolean).join(", ");
    return { accountId: a.accountId, text: `${clean(a.accountName)} (resource group ${clean(a.resourceGroup)}, subscription ${clean(a.subscriptionName ?? a.subscriptionId)}): ${counts}` };
  });
  const out: ReturnType<typeof restLines> = { lead, accounts };
  if (split.moreAccounts > 0) out.more = `… and ${plural(split.moreAccounts, "more account", "more accounts")}.`;
  return out;
}

function restSection(split: DigestSplit, plan: DigestPlan, ctx: RenderContext, csvName: string): string {
  if (split.hiddenItems === 0) return "";
  const rest = restLines(split, plan, csvName);
  const lead = rest.lead.map((l) => `<p style="margin:0 0 6px 0;overflow-wrap:anywhere;">${escapeHtml(l)}</p>`).join("");
  const list =
    rest.accounts.length === 0
      ? ""
      : `<ul style="margin:2px 0 0 0;padding-left:18px;overflow-wrap:anywhere;line-height:1.6;">${rest.accounts
          .map((a) => {
            const link = portalLink(a.accountId, ctx);
            const [name, ...tail] = a.text.split(" (");
            const nameHtml = link ? `<a href="${escapeHtml(link)}" style="${LINK_STYLE}">${escapeHtml(name ?? "")}</a>` : `<b>${escapeHtml(name ?? "")}</b>`;
            return `<li>${nameHtml}${tail.length ? ` (${escapeHtml(tail.join(" ("))}` : ""}</li>`;
          })
          .join("")}</ul>`;
  const more = rest.more ? `<p style="margin:6px 0 0 0;color:${COLORS.muted};">${escapeHtml(rest.more)}</p>` : "";
  const csv = `<p style="margin:8px 0 0 0;">Every item, with its resource id and reminder, is in ${escapeHtml(csvName)}.</p>`;
  return `\n<mj-section background-color="#ffffff" padding="10px 0 12px 0" border-top="1px solid ${COLORS.border}">
  <mj-column><mj-text>
<div style="font-size:16px;font-weight:700;">The rest: ${escapeHtml(plural(split.hiddenItems, "item", "items"))} in short</div>
${lead}${list}${more}${csv}
  </mj-text></mj-column>
</mj-section>`;
}

/**
 * What the attached kits are, in a sentence (empty when none is attached), and how many kits of the pools shown are
 * only in the audit report because the attachments were full.
 */
function kitsSentence(split: DigestSplit, attachedKits: ReadonlySet<string>): string {
  const kits = [...new Set(split.shown.flatMap((i) => (i.finding.migration ? [i.finding.migration.fileName] : [])))];
  const left = kits.filter((k) => !attachedKits.has(k)).length;
  const attached =
    attachedKits.size === 0
      ? ""
      : ` Attached: a migration kit per pool, ${attachedKits.size === 1 ? "its" : "each"} <account>--<pool>.json (the new pool's body) and <account>--<pool>.sh.txt (a bash script that creates the new pool, moves the work and deletes the old pool; save it as .sh, fill in its <REPLACE: …> values, run it with bash).`;
  return `${attached}${left > 0 ? ` ${plural(left, "pool's kit is", "pools' kits are")} not attached (the attachments are full): ${left === 1 ? "it is" : "they are"} in the audit report.` : ""}`;
}

function introText(ctx: RenderContext, plan: DigestPlan): string {
  const others = plan.items.some((i) => !isCertificateFinding(i.finding));
  if (!plan.items.some((i) => isCertificateFinding(i.finding))) {
    return "Azure Batch is retiring settings your pools use: images, node agents, VM sizes or features. Each retirement's date, countdown and steps are below.";
  }
  const also = others ? " Your pools also use other settings Azure Batch is retiring: each retirement's date, countdown and steps are below." : "";
  return `Azure Batch retired account certificates on ${longDate(ctx.retirementDate)}: creating or resizing pools with certificate references is rejected, and certificates on nodes may stop working. They move to Azure Key Vault, installed by the Key Vault VM extension.${also}`;
}

function digestText(
  plan: DigestPlan,
  ctx: RenderContext,
  views: readonly AccountView[],
  why: string[],
  stop: { lines: string[]; snooze: string },
  split: DigestSplit,
  csvName: string,
  attachedKits: ReadonlySet<string>,
): string {
  const deadline = digestDeadline(plan, ctx);
  const days = daysBetween(ctx.asOf, deadline);
  const out: string[] = [];
  out.push(digestSubject(plan, ctx), "", `${introText(ctx, plan)}${kitsSentence(split, attachedKits)}`, `Migration deadline: ${longDate(deadline)} (${countdownPhrase(days)}).`, "");
  if (split.hiddenItems > 0) {
    out.push(`The ${plural(split.shown.length, "most urgent item", "most urgent items")} of ${formatNumber(plan.items.length)} in full, then the rest in short; every item is in ${csvName}.`, "");
  }
  for (const v of views) {
    const subscription = v.subscription === v.subscriptionId ? v.subscription : `${v.subscription} (${v.subscriptionId})`;
    out.push(`== ${clean(v.account.accountName)} (resource group ${clean(v.account.resourceGroup)}, subscription ${subscription})`);
    for (const l of v.lines) out.push(`  [${l.severity.toUpperCase()}] ${l.kind} ${clean(l.name)}${l.note ? ` · ${clean(l.note)}` : ""}`);
    if (v.steps.length > 0) out.push("", "What to do in this account:");
    v.steps.forEach((s, i) => out.push(`  ${i + 1}. ${clean(s.text)}${s.link ? ` ${s.link.label}: ${s.link.url}` : ""}`));
    const commands = commandLines(v.steps);
    if (commands.length > 0) out.push("", "  Commands:", ...commands.map((c) => `    ${clean(c)}`));
    for (const fix of v.fixes) {
      const { text, command } = tagFixSentence(fix);
      out.push("", `  ${text}`, `    ${clean(command)}`);
    }
    out.push("");
  }
  out.push(...rulesText(ruleBriefs(plan.items.map((i) => i.finding), ctx.asOf, ctx.rules)));
  if (split.hiddenItems > 0) {
    const rest = restLines(split, plan, csvName);
    out.push(`== The rest: ${plural(split.hiddenItems, "item", "items")} in short`, ...rest.lead.map((l) => `  ${l}`));
    for (const a of rest.accounts) out.push(`  - ${a.text}`);
    if (rest.more) out.push(`  ${rest.more}`);
    out.push(`  Every item, with its resource id and reminder, is in ${csvName}.`, "");
  }
  out.push("Why you got this:", ...why.map((l) => `  ${l}`), "", "How to stop it:", ...stop.lines.map((l) => `  - ${l}`), `      ${clean(stop.snooze)}`);
  const report = safeHttpsUrl(ctx.reportUrl);
  if (report) out.push(`  - Full report: ${report}`);
  out.push("");
  if (ctx.senderName) out.push(`Sent by ${clean(ctx.senderName)}.`);
  out.push(`Audit as of ${longDate(ctx.asOf)}. Migration guide: ${MIGRATION_GUIDE_URL}`);
  return out.join("\n");
}

// ---------------------------------------------------------------- all clear

export async function renderAllClear(plan: AllClearPlan, ctx: RenderContext): Promise<RenderedEmail> {
  const subject = sanitizeHeader(`All clear: no Azure Batch certificate items left for you (${plural(plan.resolved.length, "item", "items")} resolved)`, 250);
  const lines = plan.resolved.map((f) => `${f.poolName !== undefined ? `Pool ${f.poolName}` : `Certificate ${f.certificate?.name ?? f.resourceId}`} in Batch account ${f.accountName}`);
  const list = `<ul style="margin:4px 0 0 0;padding-left:18px;">${lines.map((l) => `<li style="margin:2px 0;word-break:break-all;">${escapeHtml(l)}</li>`).join("")}</ul>`;
  const mjml = `<mjml lang="en">${head(subject, "Your Azure Batch certificate items are resolved")}
<mj-body width="640px" background-color="${COLORS.page}">
${banner("All clear", `Nothing left to migrate · ${escapeHtml(longDate(ctx.asOf))}`, "#1a7f37")}
${textSection(`<p style="margin:0;">Thank you. These items are gone from the latest audit, and you have no open Azure Batch certificate items left, so the reminders stop.</p>${list}`)}
${footer(ctx, "")}
</mj-body></mjml>`;
  const text = [subject, "", "These items are gone from the latest audit, and you have no open Azure Batch certificate items left, so the reminders stop.", ...lines.map((l) => `  - ${clean(l)}`), "", `Audit as of ${longDate(ctx.asOf)}.`].join("\n");
  return { subject, html: await compile(mjml), text };
}

// ---------------------------------------------------------------- admin summary

/** The first ADMIN_LIST_LIMIT of a list of `count` (the list's length unless it holds only the first). */
function capped<T>(list: readonly T[], count = list.length): { shown: T[]; more: number } {
  return { shown: list.slice(0, ADMIN_LIST_LIMIT), more: Math.max(0, count - Math.min(list.length, ADMIN_LIST_LIMIT)) };
}

export async function renderAdminSummary(summary: AdminSummary, ctx: RenderContext): Promise<RenderedEmail> {
  const t = summary.totals;
  const days = daysBetween(ctx.asOf, ctx.deadline);
  const subject = sanitizeHeader(
    `Batch certificate audit: ${plural(t.findings, "finding", "findings")}, ${formatNumber(summary.unownedCount)} unowned, ${formatNumber(summary.failedScopes.length)} failed scopes, ${countdownPhrase(days)}`,
    250,
  );
  const totals: [string, string][] = [
    ["Findings", formatNumber(t.findings)],
    ["Critical", formatNumber(t.critical)],
    ["Warning", formatNumber(t.warning)],
  ];
  if (t.owners !== undefined) totals.push(["Owners", formatNumber(t.owners)]);
  if (t.digestsPlanned !== undefined) totals.push(["Digests", formatNumber(t.digestsPlanned)]);
  if (t.escalations !== undefined) totals.push(["Escalations", formatNumber(t.escalations)]);
  if (t.allClear !== undefined) totals.push(["All-clear notes", formatNumber(t.allClear)]);
  // Per rule, soonest deadline first; rules that found nothing are left out (the report lists every rule).
  const titles = new Map((ctx.rules ?? []).map((r, i) => [r.id, { title: r.title, order: i }]));
  const perRule = Object.entries(summary.byRule ?? {})
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (titles.get(a)?.order ?? Infinity) - (titles.get(b)?.order ?? Infinity) || a.localeCompare(b));
  for (const [id, n] of perRule) totals.push([titles.get(id)?.title ?? id, `${formatNumber(n)} (${id})`]);

  if (summary.backlog) {
    totals.push(["Waiting to send", `${formatNumber(summary.backlog.messages)} (${formatNumber(summary.backlog.owners)} owners, ${formatNumber(summary.backlog.neverTold)} never told)`]);
    totals.push(["Everyone told by", summary.backlog.messages === 0 ? "now" : summary.backlog.eta ? utcTimestamp(summary.backlog.eta) : "not within 60 days: ask for a higher email quota"]);
  }
  const unowned = capped(summary.unownedFindings, summary.unownedCount);
  const problems = capped(summary.ownerProblems);
  const failed = capped(summary.failedScopes);
  const unownedLines = unowned.shown.map((f) => `${f.severity}: ${f.poolName !== undefined ? `pool ${f.poolName}` : `certificate ${f.certificate?.name ?? ""}`} in ${f.accountName} (${f.resourceId})`);
  const failedLines = failed.shown.map((s) => `${s.name ?? s.displayName ?? s.id}: ${s.reason ?? "no reason given"} (${s.id})`);
  const list = (title: string, lines: string[], more: number, empty: string): string =>
    `<p style="margin:12px 0 0 0;"><b>${escapeHtml(title)}</b></p>${
      lines.length === 0
        ? `<p style="margin:2px 0;color:${COLORS.muted};">${escapeHtml(empty)}</p>`
        : `<ul style="margin:4px 0 0 0;padding-left:18px;">${lines.map((l) => `<li style="margin:2px 0;word-break:break-all;overflow-wrap:anywhere;">${escapeHtml(l)}</li>`).join("")}</ul>${
            more > 0 ? `<p style="margin:2px 0;color:${COLORS.muted};">… and ${escapeHtml(formatNumber(more))} more (see the full report)</p>` : ""
          }`
    }`;
  const body = `${factsTable(totals)}
${list("Findings without an owner", unownedLines, unowned.more, "None: every finding has an owner.")}
${list("Owner problems (tags to fix)", problems.shown, problems.more, "None.")}
${list("Scopes the audit could not read (coverage is incomplete)", failedLines, failed.more, "None: coverage is complete.")}
${safeHttpsUrl(ctx.reportUrl) ? `<p style="margin:12px 0 0 0;"><a href="${escapeHtml(safeHttpsUrl(ctx.reportUrl) ?? "")}" style="${LINK_STYLE}">Open the full audit report</a></p>` : ""}`;
  const mjml = `<mjml lang="en">${head(subject, "Batch certificate audit summary")}
<mj-body width="640px" background-color="${COLORS.page}">
${banner("Audit summary", `${escapeHtml(countdownPhrase(days))} · deadline ${escapeHtml(longDate(ctx.deadline))}`, COLORS.brand)}
${textSection(body)}
${footer(ctx, "")}
</mj-body></mjml>`;
  const text = [
    subject,
    "",
    ...totals.map(([k, v]) => `${k}: ${v}`),
    "",
    "Findings without an owner:",
    ...(unownedLines.length ? unownedLines.map((l) => `  - ${clean(l)}`) : ["  None."]),
    ...(unowned.more ? [`  … and ${formatNumber(unowned.more)} more`] : []),
    "",
    "Owner problems (tags to fix):",
    ...(problems.shown.length ? problems.shown.map((l) => `  - ${clean(l)}`) : ["  None."]),
    ...(problems.more ? [`  … and ${formatNumber(problems.more)} more`] : []),
    "",
    "Scopes the audit could not read:",
    ...(failedLines.length ? failedLines.map((l) => `  - ${clean(l)}`) : ["  None."]),
    ...(failed.more ? [`  … and ${formatNumber(failed.more)} more`] : []),
    "",
    `Audit as of ${longDate(ctx.asOf)}.`,
  ].join("\n");
  return { subject, html: await compile(mjml), text };
}
