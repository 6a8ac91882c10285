// Owner reminders, end to end: the CLI flow with the real SDK clients, the simulated Azure (Resource Graph, Batch,
// Communication Email) and a real ledger in Azurite. Each test has its own ledger table, run-lock container and
// email store; runs that share an `out` directory share the simulated mail service's store, as successive CLI runs do.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AuditReport } from "../../src/core/model.js";
import {
  DEMO_OWNERS,
  demo,
  exactly,
  isolatedStorage,
  mailbox,
  removeDir,
  runCliAt,
  sharedAzurite,
  tempDir,
  writeSnapshot,
  type CliRun,
} from "../support/auditRuns.js";
import { DEMO_TENANT_PATH } from "../support/simulatedAzure.js";

const DAY0 = "2026-11-26";
const DEMO = DEMO_TENANT_PATH.pathname;

const azurite = sharedAzurite();
let out: string;
let env: Record<string, string>;

beforeEach(async () => {
  out = await tempDir("reminders");
  env = isolatedStorage(azurite.connectionString);
});
afterEach(async () => {
  await removeDir(out);
});

function run(now: string, extra: { snapshot?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return runCliAt({ snapshot: extra.snapshot ?? DEMO, out, now, env: { ...env, ...extra.env } });
}

function reportOf(result: CliRun): AuditReport {
  if (!result.report) throw new Error(`the run produced no report (exit ${result.exitCode}): ${result.stderr}`);
  return result.report;
}

function sentCount(result: CliRun): number {
  if (result.job?.state !== "succeeded") throw new Error(`the run did not succeed: ${result.stderr}`);
  return result.job.reminders.sent;
}

describe("owner reminders", () => {
  it("sends each owner one digest of their own, never one message to a shared To list", async () => {
    const first = await run(DAY0);

    expect(first.exitCode).toBe(2); // the demo tenant has one unreadable account
    const mail = await mailbox(out);
    expect(mail.perRecipient()).toEqual(exactly(DEMO_OWNERS));
    expect(mail.operations.every((op) => op.to.length === 1 && op.recipients.length === 1)).toBe(true);
    // risk-eng and bob.smith share the same findings (one tag names both) and still get a message each.
    expect(mail.sentTo("risk-eng@contoso.com")[0]?.subject).toBe(mail.sentTo("bob.smith@contoso.com")[0]?.subject);
  });

  it("sends nothing more on a rerun the same day or the next day", async () => {
    await run(DAY0);
    const sameDay = await run(DAY0);
    const nextDay = await run("2026-11-27");

    expect(sentCount(sameDay)).toBe(0);
    expect(sentCount(nextDay)).toBe(0);
    expect(sameDay.stdout).toMatch(/Nothing new to send/);
    expect((await mailbox(out)).perRecipient()).toEqual(exactly(DEMO_OWNERS));
  });

  it("sends the overdue reminder again only once OVERDUE_EVERY_DAYS have passed (day 0, day 1, day 6, day 7)", async () => {
    const days = { env: { OVERDUE_EVERY_DAYS: "7" } };
    await run(DAY0, days);
    expect(sentCount(await run("2026-11-27", days))).toBe(0);
    expect(sentCount(await run("2026-12-02", days))).toBe(0);
    const day7 = await run("2026-12-03", days);

    expect(sentCount(day7)).toBe(DEMO_OWNERS.length);
    const mail = await mailbox(out);
    expect(mail.perRecipient()).toEqual(exactly(DEMO_OWNERS, 2));
    expect(mail.sentTo("dana@contoso.com").map((m) => m.subject)).toEqual([
      "Action needed: 2 Azure Batch certificate items, 1,001 days overdue",
      "Action needed: 2 Azure Batch certificate items, 1,008 days overdue",
    ]);
  });

  it("copies the escalation contacts, one message each, once an owner has ignored ESCALATE_AFTER_REMINDERS overdue reminders", async () => {
    // 32 messages within a minute of real time: the per-minute limit counts both runs' sends, so it is raised here.
    const escalation = { env: { OVERDUE_EVERY_DAYS: "1", ESCALATE_AFTER_REMINDERS: "1", ESCALATION_CONTACTS: "cio@contoso.com,ciso@contoso.com", EMAIL_PER_MINUTE: "60" } };
    await run(DAY0, escalation);
    expect((await mailbox(out)).sentTo("cio@contoso.com")).toHaveLength(0);

    await run("2026-11-27", escalation);

    const mail = await mailbox(out);
    for (const contact of ["cio@contoso.com", "ciso@contoso.com"]) {
      const copies = mail.sentTo(contact);
      expect(copies).toHaveLength(DEMO_OWNERS.length);
      expect(copies.every((m) => m.to.length === 1 && m.subject.startsWith("Escalated: "))).toBe(true);
      expect(copies.map((m) => /^Escalated: (\S+) /.exec(m.subject)?.[1]).sort()).toEqual([...DEMO_OWNERS]);
    }
    expect(mail.perRecipient()).toEqual(new Map([...exactly(DEMO_OWNERS, 2), ...exactly(["cio@contoso.com", "ciso@contoso.com"], DEMO_OWNERS.length)]));
  });

  it("sends everything to the one redirect address in redirect mode, and a later live run still tells every owner", async () => {
    const redirected = await run(DAY0, { env: { SEND_MODE: "redirect", REDIRECT_ADDRESS: "test-inbox@contoso.com" } });

    expect(sentCount(redirected)).toBe(DEMO_OWNERS.length);
    let mail = await mailbox(out);
    expect(mail.perRecipient()).toEqual(exactly(["test-inbox@contoso.com"], DEMO_OWNERS.length));

    await run(DAY0, { env: { SEND_MODE: "live" } });
    mail = await mailbox(out);
    expect(mail.perRecipient()).toEqual(new Map([...exactly(["test-inbox@contoso.com"], DEMO_OWNERS.length), ...exactly(DEMO_OWNERS)]));
  });

  it("sends nothing and records nothing in dry-run mode, so a later live run still sends every digest", async () => {
    const dry = await run(DAY0, { env: { SEND_MODE: "dry-run" } });

    expect(dry.job?.state === "succeeded" && dry.job.reminders).toMatchObject({ mode: "dry-run", planned: DEMO_OWNERS.length, sent: 0 });
    expect(dry.stdout).toContain(`Dry run: ${DEMO_OWNERS.length} message(s) would be sent; nothing was sent`);
    expect((await mailbox(out)).operations).toHaveLength(0);

    const live = await run(DAY0, { env: { SEND_MODE: "live" } });
    expect(sentCount(live)).toBe(DEMO_OWNERS.length);
    expect((await mailbox(out)).perRecipient()).toEqual(exactly(DEMO_OWNERS));
  });

  it("keeps a snoozed finding in the report, marked, and tells its owner nothing before the snooze date", async () => {
    const during = await run(DAY0);

    const snoozed = reportOf(during).findings.find((f) => f.accountName === "sandboxbatch2");
    expect(snoozed).toMatchObject({ snoozedUntil: "2026-12-31", owners: [{ address: "someone@gmail.com" }] });
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).toMatch(/1 snoozed/);
    expect((await mailbox(out)).sentTo("someone@gmail.com")).toHaveLength(0);

    await run("2026-12-30");
    expect((await mailbox(out)).sentTo("someone@gmail.com")).toHaveLength(0);
    await run("2026-12-31");
    expect((await mailbox(out)).sentTo("someone@gmail.com")).toHaveLength(1);
  });

  it("sends one all-clear to an owner whose last finding is resolved, and nothing after it", async () => {
    await run(DAY0);
    const fixed = demo();
    // dana@contoso.com's findings are all in sandboxbatch1: its experiment-pool was replaced and its certificate deleted.
    fixed.resources = fixed.resources.filter((r) => !/\/batchAccounts\/sandboxbatch1\/(pools|certificates)\//.test(r.id));
    const snapshot = await writeSnapshot(out, fixed, "fixed.json");

    const resolved = await run("2026-11-27", { snapshot });
    await run("2026-11-28", { snapshot });

    expect(reportOf(resolved).run?.resolvedSinceLastRun.map((r) => r.accountName)).toEqual(["sandboxbatch1", "sandboxbatch1"]);
    const dana = (await mailbox(out)).sentTo("dana@contoso.com").map((m) => m.subject);
    expect(dana).toHaveLength(2);
    expect(dana[1]).toMatch(/resolved|all clear/i);
    expect((await mailbox(out)).perRecipient()).toEqual(new Map([...exactly(DEMO_OWNERS), ["dana@contoso.com", 2]]));
  });

  it("sends the admin summary at most once a day", async () => {
    const admin = { env: { ADMIN_SUMMARY_TO: "batch-admins@contoso.com" } };
    await run(DAY0, admin);
    await run(DAY0, admin);
    expect((await mailbox(out)).sentTo("batch-admins@contoso.com")).toHaveLength(1);

    await run("2026-11-27", admin);
    const summaries = (await mailbox(out)).sentTo("batch-admins@contoso.com");
    expect(summaries).toHaveLength(2);
    expect(summaries[0]?.subject).toMatch(/^Batch certificate audit: 20 findings/);
  });

  it("rejects or escapes hostile tag values: CR/LF, markup, and addresses outside ALLOWED_RECIPIENT_DOMAINS", async () => {
    const hostile = demo();
    const tag = (name: string, tags: Record<string, string>) => {
      const resource = hostile.resources.find((r) => r.name === name);
      if (!resource) throw new Error(`no ${name} in the demo tenant`);
      resource.tags = tags;
    };
    tag("genomicsbatch", { owner: "alice.jones@contoso.com\r\nBcc: victim@evil.example" });
    tag("imagingbatch", { Owner: '"><img src=x onerror=alert(1)>@contoso.com' });
    tag("riskbatch", { owner: "eve@evil.example, mallory@contoso.com.evil.example" });
    tag("sandboxbatch1", { owner: "dana@contoso.com", env: "<script>alert('tag')</script>" });
    const sub = hostile.subscriptions[0];
    if (sub) sub.displayName = `Research <script>alert("sub")</script> <img src=x onerror=alert(2)>`;
    const snapshot = await writeSnapshot(out, hostile, "hostile.json");

    const result = await run(DAY0, { snapshot, env: { ALLOWED_RECIPIENT_DOMAINS: "contoso.com", FALLBACK_CONTACTS: "batch-admins@contoso.com" } });

    const mail = await mailbox(out);
    expect(mail.operations.length).toBeGreaterThan(0);
    for (const op of mail.operations) {
      expect(op.recipients.every((r) => r.toLowerCase().endsWith("@contoso.com"))).toBe(true);
      expect(op.subject).not.toMatch(/[\r\n]/);
      const html = await mail.html(op);
      expect(html).not.toMatch(/<script|<img src=x|onerror=alert\(\d\)>/i);
    }
    const problems = reportOf(result).findings.flatMap((f) => f.ownerProblems ?? []);
    expect(problems.join("\n")).toMatch(/control characters/);
    expect(problems.join("\n")).toMatch(/is not a valid email address/);
    expect(problems.join("\n")).toMatch(/'eve@evil\.example' is outside ALLOWED_RECIPIENT_DOMAINS/);
    expect(problems.join("\n")).toMatch(/'mallory@contoso\.com\.evil\.example' is outside ALLOWED_RECIPIENT_DOMAINS/);
    const reportHtml = await readFile(join(out, "report.html"), "utf8");
    expect(reportHtml).not.toMatch(/<script>alert|<img src=x/i);
  });

  it("paces out a 429 from the mail service and still delivers every digest exactly once", async () => {
    const throttled = demo();
    throttled.faults = [
      ...(throttled.faults ?? []),
      { pathPattern: "^/emails:send$", method: "POST", status: 429, headers: { "retry-after": "1" }, body: { error: { code: "TooManyRequests", message: "Retry after 1 seconds." } }, after: 2, times: 1 },
    ];
    const snapshot = await writeSnapshot(out, throttled, "throttled.json");

    const started = performance.now();
    const result = await run(DAY0, { snapshot });

    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result.job?.state === "succeeded" && result.job.reminders).toMatchObject({ sent: DEMO_OWNERS.length, deferred: 0, failed: [] });
    expect((await mailbox(out)).perRecipient()).toEqual(exactly(DEMO_OWNERS));
  });
});
