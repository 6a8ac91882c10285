// The terminal summary: what was found, what could not be read, where the reports are.
import type { AuditReport, Finding, OutboxBacklog } from "../core/model.js";
import { eachOf, pagesOf } from "../core/deflatedJson.js";
import { daysBetween } from "../core/dates.js";
import type { ReminderResult } from "../core/sendReminders.js";
import { backlogSentence, countdownPhrase, formatNumber as n, plural } from "../render/format.js";

export interface SummaryOptions {
  files: string[];
  /** Reports of formats this run did not write, left by an earlier run and removed. */
  removed?: string[];
  quiet: boolean;
  reminders?: ReminderResult;
  /** Where the messages can be read (the simulated service's store, or the dry-run previews). */
  mailDir?: string;
  simulated?: boolean;
}

/** What the rules could not judge, and where Azure's VM-size dates could not be read: one line each, counts only. */
function ruleCoverage(report: AuditReport): string[] {
  const c = report.coverage;
  const lines: string[] = [];
  if (c.certificateApiRetired) lines.push(c.certificateApiRetired);
  const unjudged = c.unjudged ?? [];
  if (unjudged.length > 0) {
    const rules = [...new Set(unjudged.map((u) => u.rule))].sort();
    lines.push(`Not judged (the reads did not carry what the rule reads): ${plural(unjudged.length, "rule and account pair")}, rules ${rules.join(", ")}; see coverage.unjudged in the report.`);
  }
  const failedRegions = (c.vmSizeEndOfLife ?? []).filter((r) => r.status === "failed").map((r) => r.location);
  if (failedRegions.length > 0) lines.push(`Azure's VM-size end-of-support dates could not be read in ${failedRegions.join(", ")}: the catalogue's dates were used there.`);
  return lines;
}

export function formatSummary(report: AuditReport, options: SummaryOptions): string {
  const s = report.summary;
  // The same countdown words as the digest subject, so the terminal and the mail agree.
  const countdown = `${countdownPhrase(-report.daysSinceDeadline)} (deadline ${report.deadline})`;
  const headline =
    `${plural(s.findings, "finding")} (${n(s.critical)} critical, ${n(s.warning)} warning) — ` +
    `${plural(s.accountCertificates, "account certificate")}, ` +
    `${plural(s.poolsWithCertificates, "pool")} referencing certificates${s.poolsMigrated ? ` (${plural(s.poolsMigrated, "pool")} already migrated to Key Vault)` : ""}; ${countdown}`;
  const coverage = report.coverage.complete
    ? `Coverage complete: ${n(s.subscriptionsAudited)} subscriptions, ${n(s.accountsAudited)} Batch accounts read.`
    : `Coverage INCOMPLETE: ${n(s.subscriptionsFailed)} subscription(s) and ${n(s.accountsFailed)} account(s) could not be read` +
      (report.coverage.problems.length > 0 ? `, ${report.coverage.problems.length} query problem(s)` : "") +
      ". Findings below are a lower bound, not a clean bill.";
  const carried = s.notRechecked ? `${plural(s.notRechecked, "open finding")} could not be rechecked this run and ${s.notRechecked === 1 ? "is" : "are"} carried as last seen.` : undefined;
  const mail = options.reminders ? describeReminders(options.reminders, options) : undefined;
  if (options.quiet) {
    // One line, as --help says: the counts, the coverage in a word, and what became of the mail.
    const covered = report.coverage.complete
      ? "coverage complete"
      : `coverage INCOMPLETE (${plural(s.subscriptionsFailed, "subscription")} and ${plural(s.accountsFailed, "account")} not read)`;
    const parts = [`${plural(s.findings, "finding")} (${n(s.critical)} critical, ${n(s.warning)} warning)`, covered];
    // Said once, however many accounts it concerns.
    if (report.coverage.certificateApiRetired) parts.push("the certificate API's api-version is retired (run without --quiet for what that means)");
    if (s.notRechecked) parts.push(`${n(s.notRechecked)} not rechecked (carried as last seen)`);
    if (mail) parts.push(mail.split("\n")[0] ?? "");
    return `${parts.join("; ")}\n`;
  }

  const lines = [`Azure Batch certificate audit as of ${report.asOf}`, "", headline, coverage, ...(carried ? [carried] : []), ...ruleCoverage(report)];
  const failed = [
    ...report.coverage.subscriptions.filter((x) => x.status === "failed").map((x) => `  subscription ${x.displayName ?? x.id}: ${x.reason}`),
    ...report.coverage.accounts.filter((x) => x.status === "failed").map((x) => `  account ${x.name}: ${x.reason}`),
    ...report.coverage.problems.map((p) => `  ${p}`),
  ];
  if (failed.length > 0) lines.push("", "Not read:", ...failed);
  const { rows, widths, count, soonest } = readFindings(report);
  const byRule = ruleLines(report, soonest);
  if (byRule.length > 0) lines.push("", "By rule (soonest deadline first):", ...byRule);
  if (count > 0) {
    lines.push("", "Findings (most urgent first):");
    for (const r of rows) lines.push(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join("  ")}`);
    if (count > SHOWN) lines.push(`  … and ${n(count - SHOWN)} more in the report`);
  }
  if (mail) lines.push("", mail);
  if (options.files.length > 0) lines.push("", "Reports:", ...options.files.map((f) => `  ${f}`));
  if (options.removed && options.removed.length > 0) lines.push(`Removed the previous run's ${options.removed.join(", ")} (not in this run's --format), so every report here is from this run.`);
  return `${lines.join("\n")}\n`;
}

/** How many findings the summary lists (the rest is counted). */
const SHOWN = 50;

/**
 * What the summary reads of the findings, in one read of them (a page at a time where the run holds them deflated):
 * the first SHOWN rows, the columns as wide as the widest of every row, how many there are, and each rule's finding
 * with the soonest deadline. Every row says its countdown: the order is the report's, soonest deadline first, whatever
 * the rule.
 */
function readFindings(report: AuditReport): { rows: string[][]; widths: number[]; count: number; soonest: Map<string, Finding> } {
  const rows: string[][] = [];
  const widths = [0, 0, 0];
  const soonest = new Map<string, Finding>();
  let count = 0;
  for (const f of eachOf(pagesOf(report, "findings"))) {
    const row = findingRow(f);
    widths.forEach((w, i) => (widths[i] = Math.max(w, (row[i] ?? "").length)));
    if (count++ < SHOWN) rows.push(row);
    if (f.rule === undefined || f.deadline === undefined) continue;
    const known = soonest.get(f.rule);
    if (!known || (known.deadline ?? "") > f.deadline) soonest.set(f.rule, f);
  }
  return { rows, widths, count, soonest };
}

/** A finding's row in the summary: severity, kind, where, and what with its countdown. */
function findingRow(f: Finding): string[] {
  const countdown = `${f.daysLeft === undefined ? "" : `, ${countdownPhrase(f.daysLeft)}`}${f.notRechecked ? `, not rechecked (last seen ${f.notRechecked.lastSeen})` : ""}`;
  return [
    f.severity.toUpperCase(),
    f.kind === "account-certificate" ? "certificate" : "pool",
    `${f.accountName}${f.poolName ? `/${f.poolName}` : ""}`,
    f.kind === "account-certificate"
      ? `${f.certificate?.name ?? ""}${countdown}`
      : f.kind === "pool-certificate-reference" && !f.notRechecked
        ? `${f.references?.length ?? 0} reference(s)${countdown}`
        : `${f.rule ?? f.kind}${countdown}`,
  ];
}

/**
 * One line per rule that found something: its count, deadline and countdown (the report's rules, in their order).
 * The deadline is its findings' soonest (`soonest`: Azure's own date per VM size and region, where it gave one), and
 * it is said to be unconfirmed only when that finding's date is.
 */
function ruleLines(report: AuditReport, soonest: ReadonlyMap<string, Finding>): string[] {
  const counts = report.summary.byRule ?? {};
  return (report.rules ?? [])
    .filter((r) => (counts[r.id] ?? 0) > 0)
    .map((r) => {
      const first = soonest.get(r.id);
      const deadline = first?.deadline ?? r.deadline;
      const confirmed = first ? first.deadlineConfirmed !== false : r.deadlineConfirmed;
      const note = first?.deadlineSource === "azure" ? ", Azure's date" : confirmed ? "" : ", date not confirmed by Azure";
      const left = countdownPhrase(daysBetween(report.asOf, deadline));
      return `  ${r.id}: ${n(counts[r.id] ?? 0)} — ${r.title}, ${deadline} (${left}${note})`;
    });
}

function describeReminders(r: ReminderResult, options: SummaryOptions): string {
  const where = options.mailDir ? ` Read them in ${options.mailDir}` : "";
  const service = options.simulated ? "the simulated Communication Email service" : "Communication Email";
  const lines: string[] = [];
  if (r.mode === "dry-run") {
    lines.push(`Dry run: ${n(r.planned)} message(s) would be sent; nothing was sent.${r.planned > 0 ? where : ""}`);
  } else if (r.sent > 0) {
    lines.push(`Sent ${n(r.sent)} message(s) to ${service}${r.mode === "redirect" ? " (redirected)" : ""}.${where}`);
  } else if (r.planned === 0 || r.alreadySent === r.planned) {
    lines.push(`Nothing new to send: no reminder is due${r.alreadySent > 0 ? ` (${n(r.alreadySent)} already sent earlier)` : ""}.`);
  } else {
    lines.push(`Sent nothing of ${n(r.planned)} planned message(s).`);
  }
  const notFitting = r.deferred - r.unconfirmed - r.heldBack;
  if (notFitting > 0) lines.push(`  ${n(notFitting)} message(s) did not fit the sending limits and wait for the next run.`);
  if (r.backlog && r.backlog.messages > 0) lines.push(`  ${describeBacklog(r.backlog)}`);
  if (r.unconfirmed > 0) {
    lines.push(
      `  ${n(r.unconfirmed)} send(s) got an ambiguous answer from the service (no response, a timeout or a server error): ` +
        `left pending, not counted as sent; the next run checks whether they arrived before sending again.`,
    );
  }
  if (r.heldBack > 0) lines.push(`  ${n(r.heldBack)} more message(s) were not tried after that answer; they go on the next run.`);
  if (r.awaiting > 0) lines.push(`  ${n(r.awaiting)} message(s) wait for an earlier message to the same recipient that has no final status yet.`);
  for (const f of r.failed) lines.push(`  failed: ${f.recipient}: ${f.error}`);
  for (const f of r.refused) lines.push(`  not sent: ${f.recipient}: ${f.reason}`);
  if (r.futureDated > 0) {
    lines.push(
      `  ${n(r.futureDated)} reminder(s) in the ledger are dated after this run's day (a run with a later --now, or a wrong clock); ` +
        `they were not counted as sent.`,
    );
  }
  if (r.throttled) lines.push(`  throttled by the mail service: ${r.throttled}; the rest waits for the next run`);
  const d = r.delivery;
  if (d.accepted + d.delivered + d.failed > 0) {
    lines.push(`  delivery reports (last 30 days): ${d.delivered} delivered, ${d.failed} not delivered, ${d.accepted} accepted with no report yet`);
  }
  for (const u of d.undelivered) lines.push(`  undelivered: ${u.recipient}: ${u.status} on ${u.at.slice(0, 10)}${u.details ? `: ${u.details}` : ""}`);
  for (const f of r.lookupFailed) lines.push(`  status unknown: ${f.recipient}: ${f.error}; kept pending, not sent again until a later run can read its status`);
  const rec = r.recovered;
  if (rec.sent + rec.failed + rec.abandoned + rec.unknown > 0) {
    lines.push(
      `  recovered from an interrupted run: ${rec.sent} confirmed sent, ${rec.failed} failed, ${rec.abandoned} never sent (planned again)` +
        (rec.unknown > 0 ? `, ${rec.unknown} not known yet (kept pending, looked up again on the next run)` : ""),
    );
  }
  for (const m of r.messages.filter((m) => m.outcome === "sent").slice(0, 20)) lines.push(`  → ${m.recipient}: ${m.subject}`);
  return lines.join("\n");
}

/** What waits in the outbox and when the sending runs (SEND_SCHEDULE, or --send-only) will have sent it. */
export function describeBacklog(b: OutboxBacklog): string {
  return `Outbox: ${backlogSentence(b)}`;
}

/** A sending run's summary (`--send-only`): what went, what is left, and when it will have gone. */
export function formatSendOnlySummary(result: { asOf: string; reminders: ReminderResult }, options: Omit<SummaryOptions, "files" | "reminders">): string {
  const mail = describeReminders(result.reminders, { ...options, files: [] });
  if (options.quiet) return `${mail.split("\n")[0]}\n`;
  const r = result.reminders;
  const tail = r.backlog && r.backlog.messages === 0 && r.mode !== "dry-run" ? ["Outbox empty: every message the audit planned has been sent."] : [];
  return `${[`Sending what the audit of ${result.asOf} planned`, "", mail, ...tail].join("\n")}\n`;
}
