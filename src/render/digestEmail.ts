// Turns digest plans into mail: subject, HTML (MJML, so it survives Outlook and web mail) and plain text.
// Every string that came from Azure (names, tag keys and values, ids, details) is attacker-controlled:
// it is cleaned and HTML-escaped before it goes into the MJML source, because MJML passes entities and
// markup through untouched and does no escaping of its own.
import mjml2html from "mjml";
import type { Finding } from "../core/model.js";
import type { AdminSummary, RenderedEmail } from "../core/sendReminders.js";
import type { AllClearPlan, DigestItem, DigestPlan } from "../core/digestPlan.js";
import { daysBetween } from "../core/dates.js";
import { accountPlan } from "./accountPlan.js";
import { escapeHtml as escapeMarkup } from "./escapeHtml.js";
import { countdownPhrase, formatNumber, longDate, plural, utcTimestamp } from "./format.js";

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
}

export type { AdminSummary, RenderedEmail };

export const SNOOZE_TAG = "batch-cert-audit-snooze";
export const MIGRATION_GUIDE_URL = "https://learn.microsoft.com/azure/batch/batch-certificate-migration-guide";
export const POOL_EXTENSIONS_URL = "https://learn.microsoft.com/azure/batch/create-pool-extensions";
const DEFAULT_PORTAL = "https://portal.azure.com";
/** The last Batch management api-version that still has the certificate operations. */
const CERTIFICATE_API_VERSION = "2024-07-01";
/** Bounds the admin mail when a tenant has thousands of problems; the report has the full list. */
const ADMIN_LIST_LIMIT = 200;

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

export function digestSubject(plan: DigestPlan, ctx: RenderContext): string {
  const countdown = countdownPhrase(daysBetween(ctx.asOf, ctx.deadline));
  const items = plural(plan.items.length, "Azure Batch certificate item", "Azure Batch certificate items");
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

interface Step {
  text: string;
  /** Shell lines, shown together in one block. */
  commands?: string[];
  link?: { label: string; url: string };
}

interface ItemView {
  title: string;
  severity: string;
  facts: [string, string][];
  detail: string;
  breaks: string;
  steps: Step[];
  portal?: string;
  status: string;
}

function certificateNames(f: Finding): string[] {
  if (f.certificate) return [f.certificate.name];
  const names = (f.references ?? []).map((r) => r.certificateName ?? r.id.split("/").pop() ?? r.id).filter((n) => n.length > 0);
  return [...new Set(names)];
}

function keyVaultSteps(f: Finding, certs: readonly string[]): Step[] {
  const rg = shq(f.resourceGroup);
  const identity = shq(`${clean(f.accountName)}-pool-identity`);
  const imports = (certs.length > 0 ? certs : ["<certificate-name>"]).map(
    (c) => `az keyvault certificate import --vault-name <your-key-vault> --name ${shq(c.replace(/[^A-Za-z0-9-]/g, "-"))} --file <certificate.pfx> --password <pfx-password>`,
  );
  return [
    {
      text: "Put the certificate in Azure Key Vault. Use your original PFX file: Batch cannot give the private key back.",
      commands: imports,
    },
    {
      text: "Give the new pool a user-assigned managed identity that can read the certificate from Key Vault.",
      commands: [
        `az identity create --resource-group ${rg} --name ${identity}`,
        `az role assignment create --assignee <identity-principal-id> --role "Key Vault Secrets User" --scope <key-vault-resource-id>`,
      ],
    },
  ];
}

function itemView(item: DigestItem, ctx: RenderContext): ItemView {
  const f = item.finding;
  const acct = shq(f.accountName);
  const rg = shq(f.resourceGroup);
  const certs = certificateNames(f);
  const facts: [string, string][] = [
    ["Batch account", f.accountName],
    ["Resource group", f.resourceGroup],
  ];
  const steps: Step[] = [];
  let title: string;
  let breaks: string;

  if (f.kind === "pool-certificate-reference" || f.poolName !== undefined) {
    const pool = f.poolName ?? f.resourceId.split("/").pop() ?? "";
    title = `Pool ${pool} references account certificates`;
    facts.unshift(["Pool", pool]);
    if (certs.length > 0) facts.push(["Certificates", certs.join(", ")]);
    breaks =
      "Since the retirement, Batch rejects creating or resizing pools that carry certificate references, so this pool cannot be recreated or grown as it is, and the certificates on its nodes may stop working.";
    steps.push(...keyVaultSteps(f, certs));
    steps.push({
      text: `Create a new pool with that identity and the Azure Key Vault VM extension (KeyVaultForWindows or KeyVaultForLinux) installing the certificate. An existing pool cannot take an extension, so ${pool} has to be replaced, not changed.`,
      link: { label: "How to create a pool with extensions", url: POOL_EXTENSIONS_URL },
    });
    steps.push({
      text: `Move your jobs to the new pool, then delete the old one.`,
      commands: [`az batch account login --name ${acct} --resource-group ${rg}`, `az batch pool delete --account-name ${acct} --pool-id ${shq(pool)}`],
    });
  } else {
    const cert = f.certificate;
    const name = cert?.name ?? certs[0] ?? "";
    const algorithm = cert && /^[a-z0-9]+$/i.test(cert.thumbprintAlgorithm) ? cert.thumbprintAlgorithm.toLowerCase() : "sha1";
    const thumbprint = cert?.thumbprint ?? name.replace(/^[a-z0-9]+-/i, "");
    const certId = cert?.id ?? f.resourceId;
    title = `Account certificate ${name}`;
    facts.unshift(["Certificate", name]);
    if (cert?.expiresOn) facts.push(["Expires", longDate(cert.expiresOn)]);
    const pools = cert?.referencedByPools ?? [];
    if (pools.length > 0) facts.push(["Used by pools", pools.join(", ")]);
    breaks =
      "Since the retirement, no pool can be created or resized with this certificate, and copies already installed on nodes may stop working. It has to move to Key Vault.";
    steps.push(...keyVaultSteps(f, [name]));
    if (pools.length > 0) {
      steps.push({
        text: `Replace each pool that uses it (${pools.join(", ")}) with a new pool that has the identity and the Azure Key Vault VM extension; existing pools cannot take an extension. Move the jobs over, then delete each old pool.`,
        link: { label: "How to create a pool with extensions", url: POOL_EXTENSIONS_URL },
        commands: [
          `az batch account login --name ${acct} --resource-group ${rg}`,
          ...pools.map((p) => `az batch pool delete --account-name ${acct} --pool-id ${shq(p)}`),
        ],
      });
    }
    steps.push({
      text:
        "Delete the account certificate once no pool or node uses it. Current Azure CLI releases no longer include the az batch certificate commands, so call the management API:",
      commands: [
        `az rest --method delete --url ${shq(`https://management.azure.com${clean(certId)}?api-version=${CERTIFICATE_API_VERSION}`)}`,
        "# or, with an older Azure CLI that still has the command:",
        `az batch certificate delete --account-name ${acct} --thumbprint ${shq(thumbprint)} --thumbprint-algorithm ${algorithm}`,
      ],
    });
  }

  const d = item.decision;
  const status = d.daysToDeadline < 0 ? `${countdownPhrase(d.daysToDeadline)}${d.due && d.milestone.startsWith("overdue-") ? `, reminder ${d.milestone.slice("overdue-".length)}` : ""}` : countdownPhrase(d.daysToDeadline);
  const portal = portalLink(f.resourceId, ctx);
  const view: ItemView = { title, severity: f.severity, facts, detail: f.detail, breaks, steps, status };
  if (portal !== undefined) view.portal = portal;
  return view;
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

const CODE_STYLE = `font-family:Consolas,'Courier New',monospace;font-size:12px;line-height:1.45;background:${COLORS.codeBg};border:1px solid ${COLORS.border};border-radius:4px;padding:8px 10px;margin:6px 0 0 0;white-space:pre-wrap;word-break:normal;overflow-wrap:normal;overflow-x:auto;color:${COLORS.ink};`;
const LINK_STYLE = `color:${COLORS.brand};text-decoration:underline;word-break:break-all;`;

function head(title: string, preview: string): string {
  return `<mj-head>
  <mj-title>${escapeHtml(title)}</mj-title>
  <mj-preview>${escapeHtml(preview)}</mj-preview>
  <mj-attributes>
    <mj-all font-family="'Segoe UI', Helvetica, Arial, sans-serif" />
    <mj-text font-size="14px" line-height="1.5" color="${COLORS.ink}" padding="4px 20px" />
    <mj-section padding="0" />
  </mj-attributes>
  <mj-style>
    a { color: ${COLORS.brand}; }
  </mj-style>
</mj-head>`;
}

function banner(headline: string, sub: string, color: string): string {
  return `<mj-section background-color="${color}" padding="20px 0 16px 0">
  <mj-column>
    <mj-text color="#ffffff" font-size="12px" letter-spacing="1px" padding="0 20px 4px 20px">AZURE BATCH CERTIFICATE AUDIT</mj-text>
    <mj-text color="#ffffff" font-size="22px" font-weight="700" line-height="1.3" padding="0 20px 6px 20px">${headline}</mj-text>
    <mj-text color="#ffffff" font-size="14px" padding="0 20px">${sub}</mj-text>
  </mj-column>
</mj-section>`;
}

function textSection(html: string, opts: { bg?: string; padding?: string } = {}): string {
  return `<mj-section background-color="${opts.bg ?? "#ffffff"}" padding="${opts.padding ?? "12px 0"}">
  <mj-column><mj-text>${html}</mj-text></mj-column>
</mj-section>`;
}

/**
 * Commands wrap at spaces only and scroll sideways where one token is longer than the line: a command broken inside a
 * token cannot be copied. The fixed-layout table gives the block a width of its own, so it scrolls instead of
 * widening the message.
 */
function codeBlock(cmd: string): string {
  return `<table role="presentation" cellpadding="0" cellspacing="0" width="100%" style="table-layout:fixed;border-collapse:collapse;"><tr><td><div style="${CODE_STYLE}">${escapeHtml(cmd)}</div></td></tr></table>`;
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

function itemSection(view: ItemView): string {
  const color = view.severity === "critical" ? COLORS.critical : COLORS.warning;
  const badge = `<span style="display:inline-block;background:${color};color:#ffffff;font-size:11px;font-weight:700;letter-spacing:0.5px;padding:2px 6px;border-radius:3px;text-transform:uppercase;">${escapeHtml(view.severity)}</span>`;
  const steps = view.steps
    .map(
      (s, i) =>
        `<div style="margin:10px 0 0 0;"><b>${i + 1}.</b> ${escapeHtml(s.text)}${
          s.link ? ` <a href="${escapeHtml(s.link.url)}" style="${LINK_STYLE}">${escapeHtml(s.link.label)}</a>` : ""
        }${s.commands && s.commands.length > 0 ? codeBlock(s.commands.join("\n")) : ""}</div>`,
    )
    .join("");
  const portal = view.portal
    ? `<p style="margin:12px 0 0 0;"><a href="${escapeHtml(view.portal)}" style="${LINK_STYLE}">Open in the Azure portal</a></p>`
    : "";
  const body = `${badge} <span style="color:${COLORS.muted};font-size:13px;">${escapeHtml(view.status)}</span>
<div style="font-size:16px;font-weight:700;margin:6px 0 2px 0;word-break:break-all;overflow-wrap:anywhere;">${escapeHtml(view.title)}</div>
${factsTable(view.facts)}
${view.detail ? `<p style="margin:6px 0;">${escapeHtml(view.detail)}</p>` : ""}
${view.steps.length > 0 ? `<p style="margin:8px 0 0 0;"><b>What breaks:</b> ${escapeHtml(view.breaks)}</p>` : ""}
${view.steps.length > 0 ? `<p style="margin:10px 0 0 0;"><b>What to do:</b></p>${steps}` : ""}${portal}`;
  return `<mj-section background-color="#ffffff" border-left="4px solid ${color}" padding="14px 0 16px 0">
  <mj-column><mj-text>${body}</mj-text></mj-column>
</mj-section>
<mj-section padding="0 0 10px 0"><mj-column><mj-spacer height="1px" /></mj-column></mj-section>`;
}

/** The account's plan: each step once (see ./accountPlan.ts); the items below it carry no steps of their own. */
function planSection(steps: readonly Step[]): string {
  if (steps.length === 0) return "";
  const body = steps
    .map(
      (s, i) =>
        `<div style="margin:8px 0 0 0;"><b>${i + 1}.</b> ${escapeHtml(s.text)}${
          s.link ? ` <a href="${escapeHtml(s.link.url)}" style="${LINK_STYLE}">${escapeHtml(s.link.label)}</a>` : ""
        }${s.commands && s.commands.length > 0 ? codeBlock(s.commands.join("\n")) : ""}</div>`,
    )
    .join("");
  return `<mj-section background-color="#ffffff" padding="12px 0 14px 0">
  <mj-column><mj-text><b>What to do in this account:</b>${body}</mj-text></mj-column>
</mj-section>
<mj-section padding="0 0 10px 0"><mj-column><mj-spacer height="1px" /></mj-column></mj-section>`;
}

function groupHeading(title: string, sub: string): string {
  return `<mj-section padding="14px 0 6px 0">
  <mj-column>
    <mj-text font-size="15px" font-weight="700" padding="0 20px">${title}</mj-text>
    <mj-text font-size="12px" color="${COLORS.muted}" padding="0 20px"><div style="word-break:break-all;overflow-wrap:anywhere;">${sub}</div></mj-text>
  </mj-column>
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

async function compile(mjml: string): Promise<string> {
  // No web fonts (mail clients block them, and nothing here should fetch), no includes from disk.
  const result = await mjml2html(mjml, { validationLevel: "strict", fonts: {}, keepComments: false, ignoreIncludes: true });
  return result.html;
}

// ---------------------------------------------------------------- digest

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
        ? `${source} on ${[...where].join(", ")}`
        : source,
  );
}

function whyText(plan: DigestPlan): { sources: string[]; lines: string[] } {
  const sources = describeSources(plan);
  const lines: string[] = [];
  if (plan.kind === "escalation") {
    lines.push(
      `You are an escalation contact. ${clean(plan.ownerAddress)} has received ${plural(plan.overdueRemindersSent, "overdue reminder", "overdue reminders")} for these items without acting; this is the same digest they receive.`,
    );
  }
  const owner = plan.kind === "escalation" ? clean(plan.ownerAddress) : "Your address";
  lines.push(`${owner} was found as the owner in: ${sources.join("; ")}.`);
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

function stopLines(plan: DigestPlan, ctx: RenderContext): string[] {
  const until = "YYYY-MM-DD";
  const accounts = [...new Set(plan.items.map((i) => i.finding.accountId))];
  const target = accounts.length === 1 && accounts[0] ? shq(accounts[0]) : "<account-resource-id>";
  const tagKey = ctx.snoozeTagKey ?? SNOOZE_TAG;
  return [
    "Migrate: once a certificate or pool is gone, the next audit drops it and reminders stop.",
    "Not yours? Fix the owner tag on the Batch account (or its resource group or subscription) to name the right people.",
    `Need time? Tag the Batch account ${clean(tagKey)}: ${until} and reminders pause until that day, e.g. az tag update --resource-id ${target} --operation Merge --tags ${shq(`${tagKey}=${until}`)}`,
    ...(safeHttpsUrl(ctx.reportUrl) ? [`Full report: ${safeHttpsUrl(ctx.reportUrl)}`] : []),
  ];
}

export async function renderDigest(plan: DigestPlan, ctx: RenderContext): Promise<RenderedEmail> {
  const subject = digestSubject(plan, ctx);
  const days = daysBetween(ctx.asOf, ctx.deadline);
  const countdown = countdownPhrase(days);
  const critical = plan.items.filter((i) => i.finding.severity === "critical").length;
  const headline =
    plan.kind === "escalation"
      ? `Escalated: ${escapeHtml(plan.ownerAddress)} has not acted`
      : `${escapeHtml(plural(plan.items.length, "item needs", "items need"))} action`;
  const deadlineWord = days < 0 ? `The migration deadline was ${longDate(ctx.deadline)}` : `The migration deadline is ${longDate(ctx.deadline)}`;
  const sub = `${escapeHtml(countdown.charAt(0).toUpperCase() + countdown.slice(1))} · ${escapeHtml(deadlineWord)} · ${escapeHtml(plural(critical, "critical", "critical"))}`;
  const intro = `Azure Batch retired account certificates on ${longDate(ctx.retirementDate)}. Since then, creating or resizing pools with certificate references is rejected and certificates already installed may stop working. The items below are in Batch accounts you own; each lists what to do, with the real names filled in.`;

  const { lines: why } = whyText(plan);
  // Steps live in each account's plan, once; an item shows what it is and what breaks.
  const views = new Map(plan.items.map((i): [DigestItem, ItemView] => [i, { ...itemView(i, ctx), steps: [] }]));
  let sections = "";
  for (const sub of plan.groups) {
    const subName = sub.subscriptionName ? `${escapeHtml(sub.subscriptionName)} (${escapeHtml(sub.subscriptionId)})` : escapeHtml(sub.subscriptionId);
    for (const acc of sub.accounts) {
      sections += groupHeading(
        `Batch account ${escapeHtml(acc.accountName)}`,
        `Subscription ${subName} · resource group ${escapeHtml(acc.resourceGroup)}`,
      );
      sections += planSection(accountPlan(acc.items.map((i) => i.finding)));
      for (const item of acc.items) sections += itemSection(views.get(item) ?? itemView(item, ctx));
    }
  }

  const stop = stopLines(plan, ctx);
  const footerHtml = `<p style="margin:0;"><b>Why you got this:</b> ${why.map(escapeHtml).join(" ")}</p>
<p style="margin:8px 0 0 0;"><b>How to stop it:</b></p><ul style="margin:4px 0 0 0;padding-left:18px;">${stop
    .slice(0, 3)
    .map((l) => `<li style="margin:2px 0;">${escapeHtml(l)}</li>`)
    .join("")}</ul>${
    safeHttpsUrl(ctx.reportUrl) ? `<p style="margin:8px 0 0 0;"><a href="${escapeHtml(safeHttpsUrl(ctx.reportUrl) ?? "")}" style="${LINK_STYLE}">Open the full audit report</a></p>` : ""
  }`;

  const bannerColor = days < 0 || plan.kind === "escalation" ? COLORS.critical : COLORS.brand;
  const mjml = `<mjml lang="en">${head(subject, `${countdown}: ${plural(plan.items.length, "Azure Batch certificate item needs", "Azure Batch certificate items need")} migrating to Key Vault`)}
<mj-body width="640px" background-color="${COLORS.page}">
${banner(headline, sub, bannerColor)}
${textSection(escapeHtml(intro), { padding: "14px 0" })}
${sections}
${footer(ctx, footerHtml)}
</mj-body></mjml>`;

  const html = await compile(mjml);
  return { subject, html, text: digestText(plan, ctx, views, why, stop) };
}

function digestText(plan: DigestPlan, ctx: RenderContext, views: Map<DigestItem, ItemView>, why: string[], stop: string[]): string {
  const days = daysBetween(ctx.asOf, ctx.deadline);
  const out: string[] = [];
  out.push(digestSubject(plan, ctx), "");
  out.push(
    `Azure Batch retired account certificates on ${longDate(ctx.retirementDate)}. Since then, creating or resizing pools with certificate references is rejected and certificates already installed may stop working.`,
    `Migration deadline: ${longDate(ctx.deadline)} (${countdownPhrase(days)}).`,
    "",
  );
  for (const sub of plan.groups) {
    for (const acc of sub.accounts) {
      out.push(`== ${sub.subscriptionName ? `Subscription ${clean(sub.subscriptionName)} ` : ""}(${clean(sub.subscriptionId)}) > ${clean(acc.accountName)} (resource group ${clean(acc.resourceGroup)})`, "");
      const planSteps = accountPlan(acc.items.map((i) => i.finding));
      if (planSteps.length > 0) out.push("What to do in this account:");
      planSteps.forEach((s, i) => {
        out.push(`  ${i + 1}. ${clean(s.text)}${s.link ? ` ${s.link.label}: ${s.link.url}` : ""}`);
        for (const c of s.commands ?? []) out.push(`     ${clean(c)}`);
      });
      if (planSteps.length > 0) out.push("");
      for (const item of acc.items) {
        const v = views.get(item) ?? itemView(item, ctx);
        out.push(`[${v.severity.toUpperCase()}] ${clean(v.title)} (${v.status})`);
        for (const [k, val] of v.facts) out.push(`  ${k}: ${clean(val)}`);
        if (v.detail) out.push(`  ${clean(v.detail)}`);
        // With the account's plan above, the intro says what breaks once instead of each item.
        if (v.steps.length > 0) out.push(`  What breaks: ${v.breaks}`, "  What to do:");
        v.steps.forEach((s, i) => {
          out.push(`    ${i + 1}. ${clean(s.text)}${s.link ? ` ${s.link.label}: ${s.link.url}` : ""}`);
          for (const c of s.commands ?? []) out.push(`       ${clean(c)}`);
        });
        if (v.portal) out.push(`  Portal: ${v.portal}`);
        out.push("");
      }
    }
  }
  out.push("Why you got this:", ...why.map((l) => `  ${l}`), "", "How to stop it:", ...stop.map((l) => `  - ${l}`), "");
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

function capped<T>(list: readonly T[]): { shown: T[]; more: number } {
  return { shown: list.slice(0, ADMIN_LIST_LIMIT), more: Math.max(0, list.length - ADMIN_LIST_LIMIT) };
}

export async function renderAdminSummary(summary: AdminSummary, ctx: RenderContext): Promise<RenderedEmail> {
  const t = summary.totals;
  const days = daysBetween(ctx.asOf, ctx.deadline);
  const subject = sanitizeHeader(
    `Batch certificate audit: ${plural(t.findings, "finding", "findings")}, ${formatNumber(summary.unownedFindings.length)} unowned, ${formatNumber(summary.failedScopes.length)} failed scopes, ${countdownPhrase(days)}`,
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

  if (summary.backlog) {
    totals.push(["Waiting to send", `${formatNumber(summary.backlog.messages)} (${formatNumber(summary.backlog.owners)} owners, ${formatNumber(summary.backlog.neverTold)} never told)`]);
    totals.push(["Everyone told by", summary.backlog.messages === 0 ? "now" : summary.backlog.eta ? utcTimestamp(summary.backlog.eta) : "not within 60 days: ask for a higher email quota"]);
  }
  const unowned = capped(summary.unownedFindings);
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
