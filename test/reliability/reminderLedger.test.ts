// Issue 16: false all-clears and time. Each scenario through the CLI flow, over the simulated Azure and a real ledger in
// Azurite, run after run as an operator would: a scope that shrinks, an allow-list that tightens, a finding that comes
// back, a run dated in the future, a send whose answer is ambiguous, and live mail with no allow-list.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AuditReport } from "../../src/core/model.js";
import type { TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { demo, isolatedStorage, mailbox, removeDir, runCliAt, sharedAzurite, tempDir, writeSnapshot, type CliRun } from "../support/auditRuns.js";
import { SEND_CONCURRENCY } from "../../src/core/sendReminders.js";

const DAY0 = "2026-11-26";
const RESEARCH = "3f2c1a4e-8b7d-4c6a-9e1f-2a3b4c5d6e7f";
const SANDBOX = "c0ffee00-1234-4abc-9def-0123456789ab";
const DANA = "dana@contoso.com";
/** dana@contoso.com's findings: sandboxbatch1's experiment-pool and its certificate. */
const DANAS_RESOURCES = /\/batchAccounts\/sandboxbatch1\/(pools|certificates)\//;

const azurite = sharedAzurite();
let out: string;
let env: Record<string, string>;

beforeEach(async () => {
  out = await tempDir("ledger");
  env = isolatedStorage(azurite.connectionString);
});
afterEach(async () => {
  await removeDir(out);
});

/** The demo tenant without its deliberately unreadable account, so that a full run is complete (exit 0). */
function readableDemo(): TenantSnapshot {
  const tenant = demo();
  tenant.faults = [];
  return tenant;
}

async function snapshotOf(tenant: TenantSnapshot, name: string): Promise<string> {
  return writeSnapshot(out, tenant, `${name}.json`);
}

function run(snapshot: string, now: string, extra: Partial<Parameters<typeof runCliAt>[0]> = {}): Promise<CliRun> {
  return runCliAt({ snapshot, out, now, ...extra, env: { ...env, ...extra.env } });
}

function reportOf(result: CliRun): AuditReport {
  if (!result.report) throw new Error(`the run produced no report (exit ${result.exitCode}): ${result.stderr}`);
  return result.report;
}

function withoutDanasPool(tenant: TenantSnapshot): TenantSnapshot {
  tenant.resources = tenant.resources.filter((r) => !DANAS_RESOURCES.test(r.id));
  return tenant;
}

describe("1. the audit's scope shrinks after a full run", () => {
  it("narrowing --subscriptions resolves nothing outside the new scope: the rest is reported no longer visible, exit 2, and nobody is told all clear", async () => {
    const full = await snapshotOf(readableDemo(), "full");
    expect((await run(full, DAY0)).exitCode).toBe(0);
    const mailBefore = (await mailbox(out)).operations.length;

    const narrowed = await run(full, "2026-11-27", { cli: { subscriptions: RESEARCH } });

    expect(narrowed.exitCode).toBe(2);
    const report = reportOf(narrowed);
    expect(report.coverage.complete).toBe(false);
    const gone = report.coverage.subscriptions.filter((s) => s.id !== RESEARCH);
    expect(gone.map((s) => s.status)).toEqual(["failed", "failed", "failed"]);
    expect(gone.every((s) => /No longer visible/.test(s.reason ?? ""))).toBe(true);
    expect(report.coverage.accounts.find((a) => a.name === "sandboxbatch1")).toMatchObject({ status: "failed", reason: expect.stringMatching(/No longer visible/) });
    expect(report.run?.resolvedSinceLastRun).toEqual([]);
    expect((await mailbox(out)).operations.length).toBe(mailBefore);
    expect(narrowed.stdout).toMatch(/Coverage INCOMPLETE/);
    expect(narrowed.stdout).not.toMatch(/all clear/i);
  });

  it("a subscription the identity can no longer read (gone from the results) resolves nothing and is reported no longer visible", async () => {
    await run(await snapshotOf(readableDemo(), "full"), DAY0);
    const lostReader = readableDemo();
    lostReader.subscriptions = lostReader.subscriptions.filter((s) => s.subscriptionId !== SANDBOX);
    lostReader.resources = lostReader.resources.filter((r) => !r.id.toLowerCase().startsWith(`/subscriptions/${SANDBOX}`));

    const after = await run(await snapshotOf(lostReader, "lost-reader"), "2026-11-27");

    expect(after.exitCode).toBe(2);
    const report = reportOf(after);
    expect(report.coverage.subscriptions.find((s) => s.id === SANDBOX)).toMatchObject({ status: "failed", reason: expect.stringMatching(/No longer visible/) });
    expect(report.run?.resolvedSinceLastRun).toEqual([]);
    expect((await mailbox(out)).sentTo(DANA)).toHaveLength(1);
  });

  it("an account that drops out of the results while its subscription is still read is not resolved: only a read of the account itself resolves its findings", async () => {
    await run(await snapshotOf(readableDemo(), "full"), DAY0);
    const accountGone = readableDemo();
    accountGone.resources = accountGone.resources.filter((r) => !r.id.includes("/batchAccounts/sandboxbatch1"));

    const after = await run(await snapshotOf(accountGone, "account-gone"), "2026-11-27");

    expect(after.exitCode).toBe(2);
    const report = reportOf(after);
    expect(report.coverage.subscriptions.find((s) => s.id === SANDBOX)?.status).toBe("audited");
    expect(report.coverage.accounts.find((a) => a.name === "sandboxbatch1")).toMatchObject({ status: "failed", reason: expect.stringMatching(/No longer visible/) });
    expect(report.run?.resolvedSinceLastRun).toEqual([]);
    // Not in this run's results at all (it may be deleted): its findings stay open in the ledger, not carried or told.
    expect(report.findings.filter((f) => f.accountName === "sandboxbatch1")).toEqual([]);
    expect(report.summary.notRechecked).toBeUndefined();
    expect((await mailbox(out)).sentTo(DANA)).toHaveLength(1);
  });

  it.each([
    ["--management-groups with a typo", { cli: { managementGroups: "contoso-reserch" } }, /management groups contoso-reserch \(AUDIT_MANAGEMENT_GROUPS \/ --management-groups\), matches no subscription/],
    ["AUDIT_SUBSCRIPTIONS naming a subscription nobody can see", { env: { AUDIT_SUBSCRIPTIONS: "00000000-0000-4000-8000-000000000000" } }, /subscriptions 00000000-0000-4000-8000-000000000000 \(AUDIT_SUBSCRIPTIONS \/ --subscriptions\), matches no subscription/],
  ])("a scope that matches no subscription at all is an error, not a clean tenant: %s fails the run with exit 1 and tells nobody all clear", async (_name, extra, message) => {
    await run(await snapshotOf(readableDemo(), "full"), DAY0);
    const mailBefore = (await mailbox(out)).operations.length;

    const typo = await run(await snapshotOf(readableDemo(), "full"), "2026-11-27", extra);

    expect(typo.exitCode).toBe(1);
    expect(typo.report).toBeUndefined();
    expect(typo.stderr).toMatch(message);
    expect((await mailbox(out)).operations.length).toBe(mailBefore);
  });
});

describe("2. an account that can no longer be read", () => {
  it("keeps its open findings in the report as last seen, counted, and its owner's next reminder says they were not rechecked", async () => {
    const first = reportOf(await run(await snapshotOf(readableDemo(), "full"), DAY0));
    const before = first.findings.filter((f) => f.accountName === "sandboxbatch1").map((f) => f.id);
    expect(before.length).toBeGreaterThan(0);

    // Its certificate list answers 403 AuthorizationFailed, as the demo's unreadable account does. A week on, the
    // next reminder is due.
    const tenant = readableDemo();
    tenant.faults = demo().faults!.map((f) => ({ ...f, pathPattern: "/batchAccounts/sandboxbatch1/certificates$" }));
    const unreadable = await run(await snapshotOf(tenant, "unreadable"), "2026-12-03");

    expect(unreadable.exitCode).toBe(2);
    const report = reportOf(unreadable);
    expect(report.coverage.accounts.find((a) => a.name === "sandboxbatch1")?.status).toBe("failed");
    // Nothing of the account vanished: what it could not check is carried as last seen, saying why.
    expect(report.findings.filter((f) => f.accountName === "sandboxbatch1").map((f) => f.id).sort()).toEqual([...before].sort());
    const carried = report.findings.filter((f) => f.notRechecked);
    expect(carried.length).toBeGreaterThan(0);
    for (const f of carried) expect(f.notRechecked).toEqual({ lastSeen: DAY0, reason: expect.stringMatching(/^its certificates could not be read \(.*AuthorizationFailed/) });
    expect(report.summary.notRechecked).toBe(carried.length);
    expect(report.summary.findings).toBe(first.summary.findings);
    expect(unreadable.stdout).toContain(`${carried.length} open finding${carried.length === 1 ? "" : "s"} could not be rechecked this run and ${carried.length === 1 ? "is" : "are"} carried as last seen.`);
    expect(report.run?.resolvedSinceLastRun).toEqual([]);

    const mail = await mailbox(out);
    expect(carried[0]!.owners!.map((o) => o.address)).toEqual([DANA]);
    expect(mail.sentTo(DANA)).toHaveLength(2);
    const latest = mail.sentTo(DANA).at(-1);
    expect(await mail.html(latest!)).toMatch(/not rechecked on 3 December 2026 \(its certificates could not be read/);
  });

  it("holds a carried finding to today's tags: a snooze set on the account holds its reminder", async () => {
    await run(await snapshotOf(readableDemo(), "full"), DAY0);
    const tenant = readableDemo();
    tenant.faults = demo().faults!.map((f) => ({ ...f, pathPattern: "/batchAccounts/sandboxbatch1/certificates$" }));
    const account = tenant.resources.find((r) => r.id.endsWith("/batchAccounts/sandboxbatch1"))!;
    account.tags = { ...account.tags, "batch-cert-audit-snooze": "2026-12-20" };

    const report = reportOf(await run(await snapshotOf(tenant, "snoozed"), "2026-12-03"));

    const carried = report.findings.filter((f) => f.notRechecked);
    expect(carried.length).toBeGreaterThan(0);
    expect(carried.map((f) => f.snoozedUntil)).toEqual(carried.map(() => "2026-12-20"));
    expect((await mailbox(out)).sentTo(DANA)).toHaveLength(1);
  });
});

describe("3. the allow-list is tightened", () => {
  it("holds every message to today's ALLOWED_RECIPIENT_DOMAINS: an all-clear for an owner kept in the ledger is not sent to a domain no longer allowed", async () => {
    await run(await snapshotOf(readableDemo(), "full"), DAY0, { env: { ALLOWED_RECIPIENT_DOMAINS: "contoso.com" } });
    expect((await mailbox(out)).sentTo(DANA)).toHaveLength(1);

    const tightened = await run(await snapshotOf(withoutDanasPool(readableDemo()), "fixed"), "2026-11-27", {
      env: { ALLOWED_RECIPIENT_DOMAINS: "fabrikam.com", FALLBACK_CONTACTS: "batch-admins@fabrikam.com" },
    });

    expect(reportOf(tightened).run?.resolvedSinceLastRun.map((r) => r.accountName)).toEqual(["sandboxbatch1", "sandboxbatch1"]);
    const mail = await mailbox(out);
    expect(mail.sentTo(DANA)).toHaveLength(1);
    expect(mail.sentTo("batch-admins@fabrikam.com")).toHaveLength(1);
    expect(reportOf(tightened).run?.reminders.refused).toEqual([{ recipient: DANA, reason: "outside ALLOWED_RECIPIENT_DOMAINS" }]);
    expect(tightened.stdout).toMatch(/not sent: dana@contoso\.com: outside ALLOWED_RECIPIENT_DOMAINS/);
  });
});

describe("4. a finding resolved, back, and resolved again", () => {
  it("is due at once when it comes back, and each resolution tells its owner once", async () => {
    const full = await snapshotOf(readableDemo(), "full");
    const fixed = await snapshotOf(withoutDanasPool(readableDemo()), "fixed");

    await run(full, DAY0);
    await run(fixed, "2026-11-27");
    const back = await run(full, "2026-11-28");
    await run(fixed, "2026-11-29");
    await run(fixed, "2026-11-30");

    expect(back.job?.state === "succeeded" && back.job.reminders.messages.filter((m) => m.recipient === DANA).map((m) => m.outcome)).toEqual(["sent"]);
    const dana = (await mailbox(out)).sentTo(DANA).map((m) => m.subject);
    expect(dana).toHaveLength(4);
    expect(dana.map((s) => (/all clear|resolved/i.test(s) ? "all-clear" : "digest"))).toEqual(["digest", "all-clear", "digest", "all-clear"]);
  });
});

describe("11. one run dated in the future", () => {
  it("neither silences later real-date runs nor moves escalation closer, and the summary says so", async () => {
    const full = await snapshotOf(readableDemo(), "full");
    const policy = { env: { OVERDUE_EVERY_DAYS: "7", ESCALATE_AFTER_REMINDERS: "2", ESCALATION_CONTACTS: "cio@contoso.com" } };
    await run(full, DAY0, policy);
    const owners = (await mailbox(out)).operations.length;
    const future = await run(full, "2030-06-01", policy);
    // Every owner again (and the snoozed one, whose snooze has run out by then).
    expect(future.job?.state === "succeeded" && future.job.reminders.sent).toBeGreaterThan(owners);

    const realWeekLater = await run(full, "2026-12-03", policy);

    const result = realWeekLater.job?.state === "succeeded" ? realWeekLater.job.reminders : undefined;
    expect(result?.sent).toBe(owners);
    expect((await mailbox(out)).sentTo("cio@contoso.com")).toHaveLength(0);
    expect(result?.futureDated).toBeGreaterThan(0);
    expect(realWeekLater.stdout).toMatch(/reminder\(s\) in the ledger are dated after this run's day \(a run with a later --now, or a wrong clock\); they were not counted as sent/);
    const dana = (await mailbox(out)).sentTo(DANA).map((m) => m.subject);
    expect(dana.at(-1)).toBe("Action needed: 2 Azure Batch certificate items, 1,008 days overdue");
    expect(reportOf(realWeekLater).run?.history.map((h) => h.date)).toEqual([DAY0, "2026-12-03"]);
  });
});

describe("also: the summary after an ambiguous send", () => {
  it("says the answer was ambiguous, the send is left pending and checked on the next run, not that it did not fit the sending limits", async () => {
    const tenant = readableDemo();
    // Every try of the first sends (those out together, each retried by the SDK) answers 503: the service may or may
    // not have taken them.
    tenant.faults = [{ pathPattern: "^/emails:send$", method: "POST", status: 503, body: { error: { code: "ServiceUnavailable", message: "try later" } }, times: 3 * SEND_CONCURRENCY }];

    const result = await run(await snapshotOf(tenant, "unclear"), DAY0);

    const ambiguous = /(\d+) send\(s\) got an ambiguous answer from the service \(no response, a timeout or a server error\): left pending, not counted as sent; the next run checks whether they arrived before sending again/.exec(result.stdout);
    const notTried = /(\d+) more message\(s\) were not tried after that answer; they go on the next run/.exec(result.stdout);
    expect(Number(ambiguous?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(ambiguous?.[1])).toBeLessThanOrEqual(SEND_CONCURRENCY);
    // Nothing was sent: the ambiguous ones and the rest, not tried, make the run's eight messages.
    expect(Number(ambiguous?.[1]) + Number(notTried?.[1])).toBe(8);
    expect(result.stdout).not.toMatch(/did not fit the sending limits/);
  });
});

describe("also: live mail with no allow-list", () => {
  it("keeps the demo (--simulate, live into the simulated service) working with ALLOWED_RECIPIENT_DOMAINS empty", async () => {
    const result = await run(await snapshotOf(readableDemo(), "full"), DAY0);
    expect(result.exitCode).toBe(0);
    expect((await mailbox(out)).operations.length).toBeGreaterThan(0);
  });
});
