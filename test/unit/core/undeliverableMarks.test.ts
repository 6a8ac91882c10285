// When an undeliverable mark stands and when it clears, through the same steps a run takes: owner resolution names an
// owner from a tag, the digest records that tag (as fingerprints), a delivery report says it bounced, and the next
// runs compute marks from the ledger and resolve owners again.
import { describe, expect, it } from "vitest";
import { addDays } from "../../../src/core/dates.js";
import { undeliverableMarks, undeliverableSince } from "../../../src/core/deliveryReports.js";
import type { AuditReport, Finding, Tags } from "../../../src/core/model.js";
import type { OutboxEntry } from "../../../src/core/ports.js";
import { markHolds, resolveOwners, tagNaming, type OwnerPolicy, type UndeliverableMark } from "../../../src/core/owners.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { sendReminders, type MessageRenderer, type ReminderRequest } from "../../../src/core/sendReminders.js";
import { MemoryLedger, ScriptedMailService } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const SUB = "11111111-1111-4111-8111-111111111111";
const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct`;
const OWNER = "sandbox-admins@contoso.com";
const FALLBACK = "cloud-platform@contoso.com";
const RETRY_DAYS = 30;

const policy = (undeliverable: Map<string, UndeliverableMark>): OwnerPolicy => ({
  ownerTagKeys: ["OwnerContact"],
  fallbackContacts: [FALLBACK],
  allowedRecipientDomains: ["contoso.com"],
  undeliverable,
});

const renderer: MessageRenderer = {
  digest: async (plan) => ({ subject: `digest ${plan.recipient}`, html: "<p>d</p>", text: "d" }),
  allClear: async (plan) => ({ subject: `all clear ${plan.recipient}`, html: "<p>c</p>", text: "c" }),
  adminSummary: async () => ({ subject: "summary", html: "<p>s</p>", text: "s" }),
};

/** One tenant: one account without tags, its subscription tagged; each day a run resolves owners and sends digests. */
class Tenant {
  readonly ledger = new MemoryLedger();
  readonly mail = new ScriptedMailService();
  subscriptionTags: Tags = { OwnerContact: OWNER };
  /** Addresses whose mail bounces (the delivery report the service sends after accepting). */
  readonly bounces = new Set([OWNER]);
  /** False: the service has not reported yet (Event Grid is late). */
  reports = true;

  /** The latest audit's findings, as a sending run (--send-only) re-plans from them later that day. */
  private audited: Finding[] = [];

  /** The daily audit: owners resolved against today's marks, then sent. */
  async run(asOf: string, extra: Partial<ReminderRequest> = {}): Promise<{ owners: string[]; problems: string[]; mailed: string[] }> {
    const marks = undeliverableMarks(await this.ledger.outbox({ status: "sent" }), asOf, RETRY_DAYS);
    const resolved = resolveOwners({ account: {}, accountId: ACCOUNT, subscription: this.subscriptionTags, subscriptionId: SUB }, policy(marks));
    this.audited = [finding(resolved)];
    return { owners: resolved.owners.map((o) => o.address), problems: resolved.problems, mailed: await this.send(asOf, marks, extra) };
  }

  /** A sending run later that day: the audit's findings (owners resolved before any bounce since), today's marks. */
  async drain(asOf: string, extra: Partial<ReminderRequest> = {}): Promise<string[]> {
    return this.send(asOf, undeliverableMarks(await this.ledger.outbox({ status: "sent" }), asOf, RETRY_DAYS), extra);
  }

  private async send(asOf: string, marks: Map<string, UndeliverableMark>, extra: Partial<ReminderRequest>): Promise<string[]> {
    const before = this.mail.accepted.length;
    const result = await sendReminders(
      { ledger: this.ledger, sender: this.mail, renderer, hash: (s) => s, now: () => new Date(`${asOf}T07:00:00Z`), sleep: async () => undefined },
      {
        report: report(asOf, this.audited),
        findingStates: [],
        runId: `run-${asOf}`,
        // Overdue: a reminder every 7 days, so an owner told once hears nothing more this week.
        policy: defaultReminderPolicy("2024-02-29"),
        escalationContacts: [],
        adminSummaryTo: [],
        mode: "live",
        limits: { perMinute: 100, perHour: 1000 },
        allowedRecipientDomains: [],
        undeliverable: marks,
        ...extra,
      },
    );
    for (const m of result.messages.filter((x) => x.outcome === "sent" && this.reports)) {
      const status = this.bounces.has(m.recipient) ? "Bounced" : "Delivered";
      await this.ledger.recordDelivery({ messageId: m.operationId, recipient: m.recipient, status, at: `${asOf}T07:05:00.000Z`, details: "550 5.1.1" });
    }
    return this.mail.accepted.slice(before).map((a) => a.email.to);
  }
}

function finding(resolved: ReturnType<typeof resolveOwners>): Finding {
  return {
    id: `account-certificate:${ACCOUNT}/certificates/sha1-abc`.toLowerCase(),
    kind: "account-certificate",
    severity: "critical",
    resourceId: `${ACCOUNT}/certificates/sha1-abc`,
    subscriptionId: SUB,
    resourceGroup: "rg",
    accountName: "acct",
    accountId: ACCOUNT,
    detail: "",
    owners: resolved.owners,
    ownerProblems: resolved.problems,
  };
}

const report = (asOf: string, findings: Finding[]): AuditReport => minimalReport(asOf, findings, { accountCertificates: findings.length, poolsWithCertificates: 0 });

describe("an undeliverable mark", () => {
  it("keeps the day's sending runs (--send-only) from mailing an address whose digest bounced after the audit resolved it", async () => {
    const tenant = new Tenant();
    tenant.bounces.clear();
    expect((await tenant.run("2026-11-26")).mailed).toEqual([OWNER]);
    // Day 8: the overdue reminder goes out and bounces. The audit resolved its owners before the bounce was known.
    tenant.bounces.add(OWNER);
    expect((await tenant.run("2026-12-03")).mailed).toEqual([OWNER]);
    // The hourly drains that day re-plan the audit's findings: the address is an owner there, but marked now.
    expect(await tenant.drain("2026-12-03")).toEqual([]);
    expect(await tenant.drain("2026-12-03")).toEqual([]);
    // The next audit routes the findings to the next level; the address gets nothing.
    expect((await tenant.run("2026-12-04")).mailed).toEqual([FALLBACK]);
    expect(await tenant.drain("2026-12-04")).toEqual([]);
    expect(tenant.mail.accepted.filter((a) => a.email.to === OWNER)).toHaveLength(2);
  });

  it("marks an address for the day of a Failed report and the next only (it may be passing); Bounced holds UNDELIVERABLE_RETRY_DAYS", () => {
    const row = (status: "Failed" | "Bounced", to: string) => ({
      operationId: `op-${to}`,
      kind: "digest" as const,
      recipient: to,
      owner: to,
      asOf: "2026-11-26",
      runId: "r1",
      items: [],
      status: "sent" as const,
      updatedAt: "2026-11-26T07:00:00.000Z",
      delivery: { status, at: "2026-11-26T23:00:00.000Z" },
    });
    const outbox = [row("Failed", "failed@contoso.com"), row("Bounced", "bounced@contoso.com")];
    const marked = (asOf: string) => [...undeliverableMarks(outbox, asOf, RETRY_DAYS).keys()].sort();
    expect(marked("2026-11-26")).toEqual(["bounced@contoso.com", "failed@contoso.com"]);
    // The next day's audit still routes the findings on: nothing is missed.
    expect(marked("2026-11-27")).toEqual(["bounced@contoso.com", "failed@contoso.com"]);
    expect(marked("2026-11-28")).toEqual(["bounced@contoso.com"]);
    expect(marked("2026-12-25")).toEqual(["bounced@contoso.com"]);
    expect(marked("2026-12-26")).toEqual([]);
  });

  it("holds on every sending path: escalation copy, admin summary and all-clear to a marked address are refused, with the reason", async () => {
    const tenant = new Tenant();
    await tenant.run("2026-11-26");
    // The bounced owner is also an escalation contact and gets the admin summary; the audit resolved it before the bounce.
    const extra = { escalationContacts: [OWNER], adminSummaryTo: [OWNER], policy: { ...defaultReminderPolicy("2024-02-29"), escalateAfterReminders: 1 } };
    expect(await tenant.drain("2026-11-26", extra)).toEqual([]);
    const next = await tenant.run("2026-11-27", extra);
    expect(next.mailed).toEqual([FALLBACK]);
    expect(tenant.mail.accepted.filter((a) => a.email.to === OWNER)).toHaveLength(1);
  });

  it("holds for the redirect address: once mail to it bounced, a redirect run sends nothing to it", async () => {
    const REDIRECT = "qa-inbox@contoso.com";
    const tenant = new Tenant();
    tenant.bounces.clear();
    tenant.bounces.add(REDIRECT);
    const redirect = { mode: "redirect" as const, redirectAddress: REDIRECT };
    expect((await tenant.run("2026-11-26", redirect)).mailed).toEqual([REDIRECT]);
    tenant.subscriptionTags = { OwnerContact: "bob@contoso.com" };
    expect((await tenant.run("2026-11-27", redirect)).mailed).toEqual([]);
    // The owners themselves are not marked by a bounce of the redirect address.
    expect((await tenant.run("2026-11-28")).mailed).toEqual(["bob@contoso.com"]);
  });

  it("stands while the tag that named the address keeps its value, and clears on the run after the value changes", async () => {
    const tenant = new Tenant();
    expect((await tenant.run("2026-11-26")).mailed).toEqual([OWNER]);

    const unchanged = await tenant.run("2026-11-27");
    expect(unchanged.owners).toEqual([FALLBACK]);
    expect(unchanged.problems.join("\n")).toContain(`'${OWNER}' undeliverable: Bounced on 2026-11-26`);
    expect(unchanged.mailed).toEqual([FALLBACK]);
    const stillUnchanged = await tenant.run("2026-11-28");
    expect(stillUnchanged.owners).toEqual([FALLBACK]);
    expect(stillUnchanged.mailed).toEqual([]);

    // The owner fixes the mailbox and edits the tag (the same address, written again with another beside it).
    tenant.subscriptionTags = { OwnerContact: `${OWNER}; sandbox-oncall@contoso.com` };
    tenant.bounces.clear();
    const edited = await tenant.run("2026-11-29");
    expect(edited.owners).toEqual([OWNER, "sandbox-oncall@contoso.com"]);
    expect(edited.problems).toEqual([]);
    // Told at once, not at the next step of the cadence: the digest that recorded day 1 never reached them.
    expect(edited.mailed.sort()).toEqual([OWNER, "sandbox-oncall@contoso.com"]);
    // Delivered now: no mark, and the cadence goes on from today's digest.
    expect((await tenant.run("2026-11-30")).mailed).toEqual([]);
  });

  it("tells the owner once after the edit, even while the new digest's delivery report has not come", async () => {
    const tenant = new Tenant();
    await tenant.run("2026-11-26");
    await tenant.run("2026-11-27");
    // Only the letter case of the local part changes: still the same mailbox (marks are kept by lower-cased address).
    const edited = "SANDBOX-ADMINS@contoso.com";
    tenant.subscriptionTags = { OwnerContact: edited };
    tenant.reports = false;
    expect((await tenant.run("2026-11-28")).mailed).toEqual([edited]);
    // The day-1 bounce is still the address's latest report, and the tag still differs: it stays an owner, told already.
    const next = await tenant.run("2026-11-29");
    expect(next.owners).toEqual([edited]);
    expect(next.mailed).toEqual([]);
  });

  it("clears when the tag named someone else on a run in between, even though it names the address as before now", async () => {
    const tenant = new Tenant();
    await tenant.run("2026-11-26");
    tenant.subscriptionTags = { OwnerContact: "bob@contoso.com" };
    expect((await tenant.run("2026-11-27")).mailed).toEqual(["bob@contoso.com"]);

    tenant.subscriptionTags = { OwnerContact: OWNER };
    tenant.bounces.clear();
    const back = await tenant.run("2026-11-28");
    expect(back.owners).toEqual([OWNER]);
    expect(back.mailed).toContain(OWNER);
  });

  it("holds where another tag names the address, and everywhere when the bounced message recorded no tag (an older ledger row)", () => {
    const bounced = tagNaming(`/subscriptions/${SUB}`, "OwnerContact", OWNER);
    const mark: UndeliverableMark = { status: "Bounced", at: "2026-11-26T07:05:00.000Z", namedBy: [bounced] };
    expect(markHolds(mark, bounced)).toBe(true);
    expect(markHolds(mark, tagNaming(`/subscriptions/${SUB}`, "ownercontact", OWNER))).toBe(true);
    expect(markHolds(mark, tagNaming(`/subscriptions/${SUB}`, "OwnerContact", ` ${OWNER}`))).toBe(false);
    expect(markHolds(mark, tagNaming(ACCOUNT, "OwnerContact", OWNER))).toBe(true);
    expect(markHolds(mark, undefined)).toBe(true);
    expect(markHolds({ status: "Bounced", at: mark.at }, tagNaming(`/subscriptions/${SUB}`, "OwnerContact", "changed"))).toBe(true);
  });

  it("built from ledger rows without namings keeps today's rule: only the retry period or a later Delivered ends it", () => {
    const row = {
      operationId: "op-1",
      kind: "digest" as const,
      recipient: OWNER,
      owner: OWNER,
      asOf: "2026-11-26",
      runId: "r1",
      items: [],
      status: "sent" as const,
      updatedAt: "2026-11-26T07:00:00.000Z",
      delivery: { status: "Bounced" as const, at: "2026-11-26T07:05:00.000Z" },
    };
    const later = { ...row, operationId: "op-2", recipient: "bob@contoso.com", owner: "bob@contoso.com", asOf: "2026-11-27", delivery: undefined };
    const marks = undeliverableMarks([row, { ...later, namedBy: [tagNaming(`/subscriptions/${SUB}`, "OwnerContact", "bob@contoso.com")] }], "2026-11-28", RETRY_DAYS);
    const mark = marks.get(OWNER);
    expect(mark?.namedBy).toBeUndefined();
    expect(mark && markHolds(mark, tagNaming(`/subscriptions/${SUB}`, "OwnerContact", "anything else"))).toBe(true);
    expect(undeliverableMarks([row], "2026-12-26", RETRY_DAYS).has(OWNER)).toBe(false);
  });
});

describe("the sent messages a run reads for its marks", () => {
  it("are those since undeliverableSince: the marks are the same as from every message ever sent, for reports up to a week late and every age", () => {
    const day = (offset: number) => addDays("2026-11-26", offset);
    // For each address: a message naming it by its account's tag, its report `lag` days later with `status`; for some
    // a later Delivered one, for others a later message to someone else naming another value of that tag.
    const outbox: OutboxEntry[] = [];
    let n = 0;
    for (const status of ["Bounced", "Suppressed", "Failed"] as const) {
      for (let sent = -60; sent <= 0; sent += 3) {
        for (const lag of [0, 1, 3, 7]) {
          const recipient = `owner${n++}@contoso.com`;
          const base = { kind: "digest" as const, recipient, owner: recipient, runId: "r", items: [], status: "sent" as const };
          const account = `${ACCOUNT}${n}`;
          const namedBy = [tagNaming(account, "OwnerContact", recipient)];
          outbox.push({ ...base, operationId: `op-${n}`, asOf: day(sent), updatedAt: `${day(sent)}T07:00:00.000Z`, namedBy, delivery: { status, at: `${day(sent + lag)}T09:00:00.000Z` } });
          if (n % 3 === 0) outbox.push({ ...base, operationId: `op-${n}-later`, asOf: day(sent + lag + 1), updatedAt: `${day(sent + lag + 1)}T07:00:00.000Z`, namedBy, delivery: { status: "Delivered", at: `${day(sent + lag + 1)}T09:00:00.000Z` } });
          if (n % 3 === 1) outbox.push({ ...base, operationId: `op-${n}-other`, recipient: FALLBACK, owner: FALLBACK, asOf: day(sent + 2), updatedAt: `${day(sent + 2)}T07:00:00.000Z`, namedBy: [tagNaming(account, "OwnerContact", FALLBACK)] });
        }
      }
    }
    for (const retryDays of [1, 7, RETRY_DAYS]) {
      for (const asOf of [day(0), day(7)]) {
        const all = undeliverableMarks(outbox, asOf, retryDays);
        const since = undeliverableSince(asOf, retryDays);
        expect(undeliverableMarks(outbox.filter((e) => e.asOf >= since), asOf, retryDays)).toEqual(all);
        // And the window leaves messages out: it is not everything.
        expect(outbox.filter((e) => e.asOf >= since).length).toBeLessThan(outbox.length);
      }
    }
    const marks = [...undeliverableMarks(outbox, day(0), RETRY_DAYS).values()];
    expect(marks.length).toBeGreaterThan(20);
    expect(marks.filter((m) => m.namedBy?.length && m.changedTags?.length).length).toBeGreaterThan(5);
  });
});
