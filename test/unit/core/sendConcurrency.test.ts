// Sends go out a few at a time: each message is still decided in plan order and recorded before it is sent; what a
// run reports is in plan order however the sends finish; a throttle or a failure that ends the run starts no more.
import { describe, expect, it } from "vitest";
import { AuditError } from "../../../src/core/errors.js";
import type { Finding } from "../../../src/core/model.js";
import type { DeliveryResult, OutgoingEmail } from "../../../src/core/ports.js";
import { SEND_CONCURRENCY, sendReminders, type MessageRenderer } from "../../../src/core/sendReminders.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { MemoryLedger } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const SUB = "11111111-1111-4111-8111-111111111111";
const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct`;
const OWNERS = Array.from({ length: 12 }, (_, i) => `owner${String(i).padStart(2, "0")}@contoso.com`);
const finding = (owner: string, i: number): Finding => ({
  id: `pool-certificate-reference:${ACCOUNT}/pools/p${i}`.toLowerCase(),
  kind: "pool-certificate-reference",
  severity: "critical",
  resourceId: `${ACCOUNT}/pools/p${i}`,
  subscriptionId: SUB,
  resourceGroup: "rg",
  accountName: "acct",
  accountId: ACCOUNT,
  poolName: `p${i}`,
  references: [],
  detail: "",
  owners: [{ address: owner, source: 'account tag "owner"' }],
});
const renderer: MessageRenderer = {
  digest: async (plan) => ({ subject: `digest ${plan.recipient}`, html: "<p>d</p>", text: "d" }),
  allClear: async (plan) => ({ subject: `all clear ${plan.recipient}`, html: "<p>c</p>", text: "c" }),
  adminSummary: async () => ({ subject: "summary", html: "<p>s</p>", text: "s" }),
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A mail service whose sends take real time: `delay(n)` ms for the n-th send (0-based); `answer` may fail one. */
class TimedMail {
  readonly started: string[] = [];
  readonly finished: string[] = [];
  out = 0;
  mostOut = 0;
  constructor(
    private readonly delay: (n: number) => number,
    private readonly answer: (n: number) => "accept" | "throttle" = () => "accept",
  ) {}
  async send(email: OutgoingEmail): Promise<DeliveryResult> {
    const n = this.started.push(email.to) - 1;
    this.mostOut = Math.max(this.mostOut, ++this.out);
    await sleep(this.delay(n));
    this.out--;
    this.finished.push(email.to);
    if (this.answer(n) === "throttle") throw new AuditError("EMAIL.SEND_FAILED", "HTTP 429 throttled", { retryable: true, statusCode: 429 });
    return { status: "Accepted" };
  }
  async lookup(): Promise<{ status: "NotFound" }> {
    return { status: "NotFound" };
  }
}

type Extra = { stillHeld?: () => boolean; onMessage?: () => Promise<void>; now?: () => Date; sleep?: (ms: number) => Promise<void>; perMinute?: number };
function run(ledger: MemoryLedger, mail: TimedMail, { perMinute = 100, ...extra }: Extra = {}) {
  return sendReminders(
    { ledger, sender: mail, renderer, hash: (s) => s, now: () => new Date("2026-11-26T07:00:00Z"), sleep: async () => undefined, ...extra },
    {
      report: minimalReport("2026-11-26", OWNERS.map(finding)),
      findingStates: [],
      runId: "run-1",
      policy: defaultReminderPolicy("2024-02-29"),
      escalationContacts: [],
      adminSummaryTo: [],
      allowedRecipientDomains: [],
      mode: "live",
      limits: { perMinute, perHour: 1000 },
    },
  );
}

describe("sends a few at a time", () => {
  it("has SEND_CONCURRENCY sends out at once and no more, records each before it goes, and reports in plan order", async () => {
    const ledger = new MemoryLedger();
    // Later sends finish first within each group that is out together.
    const mail = new TimedMail((n) => 40 - (n % SEND_CONCURRENCY) * 10);
    const recordIntent = ledger.recordIntent.bind(ledger);
    ledger.recordIntent = async (entry) => {
      // Recorded while its send has not started.
      expect(mail.started).not.toContain(entry.recipient);
      return recordIntent(entry);
    };
    const result = await run(ledger, mail);

    expect(result.sent).toBe(12);
    expect(mail.mostOut).toBe(SEND_CONCURRENCY);
    // Started in plan order, finished in another, reported in plan order.
    const reported = result.messages.map((m) => m.recipient);
    expect(mail.started).toEqual(reported);
    expect(mail.finished).not.toEqual(mail.started);
    expect(result.messages.every((m) => m.outcome === "sent")).toBe(true);
    expect((await ledger.outbox({ status: "sent" })).map((e) => e.recipient).sort()).toEqual([...OWNERS].sort());
  });

  it("starts no send once one is throttled: the ones out finish, the rest are deferred, and the next run sends each once", async () => {
    const ledger = new MemoryLedger();
    let startedAtThrottle = -1;
    // The 2nd send is refused, slowly enough that the others out have started.
    const mail = new TimedMail(
      (n) => (n === 1 ? 30 : 5),
      (n) => {
        if (n !== 1) return "accept";
        startedAtThrottle = mail.started.length;
        return "throttle";
      },
    );
    const first = await run(ledger, mail);
    expect(startedAtThrottle).toBeGreaterThan(1);
    expect(mail.started).toHaveLength(startedAtThrottle);
    expect(first.sent).toBe(startedAtThrottle - 1);
    expect(first.deferred).toBe(12 - first.sent);
    expect(first.throttled).toContain("429");

    const again = new TimedMail(() => 1);
    const second = await run(ledger, again);
    expect(second.sent).toBe(12 - first.sent);
    const everyAccepted = [...mail.finished.filter((to) => to !== OWNERS[1]), ...again.started];
    expect(everyAccepted.sort()).toEqual([...OWNERS].sort());
  });

  it("sends nothing more when a send out is throttled while the next one waits for its slot within the limits", async () => {
    const ledger = new MemoryLedger();
    // One send a minute: the second message waits for its slot (the clock moves a minute on; 50 ms really pass),
    // and meanwhile the first send, 20 ms out, is refused.
    let clock = Date.parse("2026-11-26T07:00:00Z");
    const mail = new TimedMail(
      () => 20,
      (n) => (n === 0 ? "throttle" : "accept"),
    );
    const result = await run(ledger, mail, {
      perMinute: 1,
      now: () => new Date(clock),
      sleep: async (ms) => {
        clock += ms;
        await sleep(50);
      },
    });
    expect(mail.started).toHaveLength(1);
    expect(result.sent).toBe(0);
    expect(result.deferred).toBe(12);
    expect(result.throttled).toContain("429");
  });

  it("ends the run when the lock is lost, after the sends already out finish, and starts no more", async () => {
    const ledger = new MemoryLedger();
    let held = true;
    // The lease is lost as the first send's answer comes, while the next ones are out.
    const mail = new TimedMail(
      () => 10,
      (n) => {
        if (n === 0) held = false;
        return "accept";
      },
    );
    await expect(run(ledger, mail, { stillHeld: () => held })).rejects.toThrow(/lost its lock/);
    expect(mail.out).toBe(0);
    expect(mail.started).toHaveLength(SEND_CONCURRENCY);
    // Every send that started was recorded first, and its outcome after.
    const outbox = await ledger.outbox();
    expect(outbox.filter((e) => e.status === "sent").map((e) => e.recipient).sort()).toEqual([...mail.started].sort());
    expect(outbox.filter((e) => e.status === "pending")).toEqual([]);
  });

  it("ends the run when a message's report fails, after the sends already out finish", async () => {
    const ledger = new MemoryLedger();
    const mail = new TimedMail(() => 5);
    let reports = 0;
    const onMessage = async () => {
      if (++reports === 2) throw new Error("disk full");
    };
    await expect(run(ledger, mail, { onMessage })).rejects.toThrow(/disk full/);
    expect(mail.out).toBe(0);
    expect(mail.started.length).toBeLessThan(12);
    const sent = (await ledger.outbox({ status: "sent" })).map((e) => e.recipient).sort();
    expect(sent).toEqual([...mail.started].sort());
  });
});
