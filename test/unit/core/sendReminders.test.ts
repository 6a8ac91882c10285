import { describe, expect, it } from "vitest";
import { AuditError } from "../../../src/core/errors.js";
import type { AuditReport, Finding } from "../../../src/core/model.js";
import type { FindingState, OutboxEntry } from "../../../src/core/ports.js";
import { SEND_CONCURRENCY, sendReminders, statesForReminders, type MessageRenderer, type ReminderRequest } from "../../../src/core/sendReminders.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { MemoryLedger, ScriptedMailService } from "../../support/memoryPorts.js";
import { historyKey } from "../../../src/core/digestPlan.js";
import { FORGOTTEN_PER_RUN, KEPT_DAYS } from "../../../src/core/retention.js";
import { addDays } from "../../../src/core/dates.js";
import { minimalReport } from "../../support/minimalReport.js";

const SUB = "11111111-1111-4111-8111-111111111111";
const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct`;

function finding(pool: string, owner: string): Finding {
  return {
    id: `pool-certificate-reference:${ACCOUNT}/pools/${pool}`.toLowerCase(),
    kind: "pool-certificate-reference",
    severity: "critical",
    resourceId: `${ACCOUNT}/pools/${pool}`,
    subscriptionId: SUB,
    resourceGroup: "rg",
    accountName: "acct",
    accountId: ACCOUNT,
    poolName: pool,
    references: [],
    detail: "",
    owners: [{ address: owner, source: 'account tag "owner"' }],
  };
}

const report = (asOf: string, findings: Finding[]): AuditReport => minimalReport(asOf, findings);

/** The ledger's state of one of ann@contoso.com's findings, seen on `seen`, and resolved on `resolvedOn` if given. */
function stateOf(f: Finding, seen: string, resolvedOn?: string): FindingState {
  return {
    findingId: f.id, kind: f.kind, resourceId: f.resourceId, accountId: f.accountId, accountName: "acct", subscriptionId: SUB,
    severity: "critical", owners: ["ann@contoso.com"], firstSeen: seen, lastSeen: seen, ...(resolvedOn ? { resolvedOn } : {}),
  };
}

const renderer: MessageRenderer = {
  digest: async (plan) => ({ subject: `digest ${plan.recipient}`, html: "<p>d</p>", text: "d" }),
  allClear: async (plan) => ({ subject: `all clear ${plan.recipient}`, html: "<p>c</p>", text: "c" }),
  adminSummary: async () => ({ subject: "summary", html: "<p>s</p>", text: "s" }),
};

let clock = Date.parse("2026-11-26T07:00:00Z");
function run(ledger: MemoryLedger, mail: ScriptedMailService, asOf: string, findings: Finding[], extra: Partial<ReminderRequest> & { stillHeld?: () => boolean } = {}) {
  clock += 3_600_000;
  const { stillHeld, ...rest } = extra;
  return sendReminders(
    {
      ledger,
      sender: mail,
      renderer,
      hash: (s) => s,
      now: () => new Date(clock),
      sleep: async (ms) => {
        clock += ms;
      },
      ...(stillHeld ? { stillHeld } : {}),
    },
    {
      report: report(asOf, findings),
      findingStates: [],
      runId: `run-${asOf}`,
      policy: defaultReminderPolicy("2024-02-29"),
      escalationContacts: [],
      adminSummaryTo: [],
      mode: "live",
      limits: { perMinute: 100, perHour: 1000 },
      allowedRecipientDomains: [],
      ...rest,
    },
  );
}

describe("the send protocol", () => {
  it("does not send again when the service accepted a message but its answer was lost: the next run looks it up", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService().then("no-answer");
    const f = [finding("p1", "ann@contoso.com")];

    const first = await run(ledger, mail, "2026-11-26", f);
    expect(first).toMatchObject({ sent: 0, deferred: 1, unconfirmed: 1 });
    expect((await ledger.outbox({ status: "pending" })).length).toBe(1);

    const second = await run(ledger, mail, "2026-11-27", f);
    expect(second.recovered).toEqual({ sent: 1, failed: 0, abandoned: 0, unknown: 0 });
    expect(second.sent).toBe(0);
    expect(mail.accepted.length).toBe(1);
  });

  it("takes a 404 for a lost send within EMAIL_NOT_FOUND_GRACE_HOURS as unknown: nothing is sent, and it is looked up again next run", async () => {
    const ledger = new MemoryLedger();
    const f = [finding("p1", "ann@contoso.com")];
    const unreachable = new ScriptedMailService();
    unreachable.send = async () => {
      throw new AuditError("EMAIL.SEND_FAILED", "ECONNRESET", { retryable: true });
    };
    await run(ledger, unreachable, "2026-11-26", f);

    // An hour later the status API does not know it: delivered mail has been reported not found, so it waits.
    const service = new ScriptedMailService();
    const second = await run(ledger, service, "2026-11-26", f, { notFoundGraceHours: 24 });
    expect(second.recovered).toEqual({ sent: 0, failed: 0, abandoned: 0, unknown: 1 });
    expect(second).toMatchObject({ sent: 0, awaiting: 1 });
    expect(service.accepted).toHaveLength(0);
    expect(await ledger.outbox({ status: "pending" })).toHaveLength(1);
  });

  it("plans a lost send again once it is still not found after the grace, and sends it once", async () => {
    const ledger = new MemoryLedger();
    const f = [finding("p1", "ann@contoso.com")];
    // The connection drops before the service records anything: the sender cannot tell, so the intent stays pending.
    const unreachable = new ScriptedMailService();
    unreachable.send = async () => {
      throw new AuditError("EMAIL.SEND_FAILED", "ECONNRESET", { retryable: true });
    };
    await run(ledger, unreachable, "2026-11-26", f);

    const service = new ScriptedMailService();
    clock += 24 * 3_600_000;
    const second = await run(ledger, service, "2026-11-27", f, { notFoundGraceHours: 24 });
    expect(second.recovered.abandoned).toBe(1);
    expect(service.delivered("ann@contoso.com")).toHaveLength(1);
    const third = await run(ledger, service, "2026-11-27", f);
    expect(third.sent).toBe(0);
    expect(service.delivered("ann@contoso.com")).toHaveLength(1);
  });

  it("settles a pending intent that already holds its delivery report as sent, without a status read, and sends it never again", async () => {
    const ledger = new MemoryLedger();
    const f = [finding("p1", "ann@contoso.com")];
    await run(ledger, new ScriptedMailService().then("no-answer"), "2026-11-26", f);
    const [pending] = await ledger.outbox({ status: "pending" });
    if (!pending) throw new Error("expected a pending intent");
    // A crash cut the settling short: the row holds the report and is still pending (or an older ledger wrote it so).
    ledger.entries.set(pending.operationId, { ...pending, delivery: { status: "Delivered", at: "2026-11-26T07:01:00.000Z" } });
    const forgetful = new ScriptedMailService();
    forgetful.lookup = async () => ({ status: "NotFound" });
    clock += 48 * 3_600_000;
    const later = await run(ledger, forgetful, "2026-11-28", f, { notFoundGraceHours: 24 });
    expect(later.recovered).toEqual({ sent: 1, failed: 0, abandoned: 0, unknown: 0 });
    expect(forgetful.lookups).toBe(0);
    expect(forgetful.accepted).toHaveLength(0);
  });

  it("records a message as sent on the service's 202, without reading its status", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService().then("running");
    const f = [finding("p1", "ann@contoso.com")];

    const first = await run(ledger, mail, "2026-11-26", f);
    expect(first.sent).toBe(1);
    expect(mail.lookups).toBe(0);
    expect(await ledger.outbox({ status: "pending" })).toHaveLength(0);
    expect(ledger.history.size).toBe(1);

    const second = await run(ledger, mail, "2026-11-26", f);
    expect(second.sent).toBe(0);
    expect(mail.lookups).toBe(0);
    expect(mail.accepted).toHaveLength(1);
  });

  it("takes a Running status at recovery as accepted: recorded as sent and never sent again", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService().then("no-answer");
    const f = [finding("p1", "ann@contoso.com")];
    await run(ledger, mail, "2026-11-26", f);
    for (const op of mail.accepted) op.status = "Running";

    const second = await run(ledger, mail, "2026-11-27", f);
    expect(second.recovered).toEqual({ sent: 1, failed: 0, abandoned: 0, unknown: 0 });
    expect(mail.accepted).toHaveLength(1);
  });

  it("reads at most EMAIL_STATUS_READS_PER_HOUR statuses in a run: the rest stay pending, nobody is mailed twice, and the next run reads them", async () => {
    const { ledger, findings, lost } = await thirtyLostSends();
    expect(await ledger.outbox({ status: "pending" })).toHaveLength(30);

    const reads = { perMinute: 10, perHour: 20 };
    const lookupsBefore = lost.lookups;
    const next = await run(ledger, lost, "2026-11-26", findings, { statusReads: reads });
    expect(lost.lookups - lookupsBefore).toBe(20);
    expect(next.recovered).toEqual({ sent: 20, failed: 0, abandoned: 0, unknown: 10 });
    expect(next.sent).toBe(0);
    const after = await run(ledger, lost, "2026-11-26", findings, { statusReads: reads });
    expect(after.recovered).toEqual({ sent: 10, failed: 0, abandoned: 0, unknown: 0 });
    expect(lost.accepted).toHaveLength(30);
  });

  it("keeps to EMAIL_STATUS_READS_PER_HOUR across runs: a rerun within the hour reads only what the hour has left", async () => {
    const { ledger, findings, lost } = await thirtyLostSends();
    // The first run reads 15 (a smaller budget then, as a run the time budget stopped would).
    const first = await run(ledger, lost, "2026-11-26", findings, { statusReads: { perMinute: 10, perHour: 15 } });
    expect(first.recovered.sent).toBe(15);
    const reads = { perMinute: 10, perHour: 25 };

    // A rerun 20 minutes later (run() moves the clock an hour on): 10 reads left in the hour, not 25.
    clock -= 40 * 60_000;
    const lookupsBefore = lost.lookups;
    const rerun = await run(ledger, lost, "2026-11-26", findings, { statusReads: reads });
    expect(lost.lookups - lookupsBefore).toBe(10);
    expect(rerun.recovered).toEqual({ sent: 10, failed: 0, abandoned: 0, unknown: 5 });

    // An hour after those reads the budget is whole again.
    const later = await run(ledger, lost, "2026-11-26", findings, { statusReads: reads });
    expect(later.recovered).toEqual({ sent: 5, failed: 0, abandoned: 0, unknown: 0 });
    expect(lost.accepted).toHaveLength(30);
  });

  it("defers the rest of the run when a send is throttled beyond what it waits out, reports why, and sends those next run", async () => {
    const ledger = new MemoryLedger();
    const findings = Array.from({ length: 12 }, (_, i) => finding(`p${i}`, `owner${i}@contoso.com`));
    const mail = new ScriptedMailService().then("succeed", "refuse");
    let attempts = 0;
    const send = mail.send.bind(mail);
    mail.send = (email) => (attempts++, send(email));

    const first = await run(ledger, mail, "2026-11-26", findings);
    // Sends already out when the 429 came finish (at most SEND_CONCURRENCY in all); none starts after it.
    expect(attempts).toBeLessThanOrEqual(SEND_CONCURRENCY);
    expect(first.sent).toBe(attempts - 1);
    expect(first).toMatchObject({ deferred: 12 - first.sent, failed: [] });
    expect(first.throttled).toContain("429");
    const second = await run(ledger, mail, "2026-11-26", findings);
    expect(second).toMatchObject({ sent: 12 - first.sent, deferred: 0 });
    expect(new Set(mail.accepted.map((a) => a.email.to)).size).toBe(12);
    expect(mail.accepted).toHaveLength(12);
  });

  it("stops sending once the run has lost its lock", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    let held = true;
    const send = mail.send.bind(mail);
    // The lease renewal fails while the first message is out.
    mail.send = async (email) => {
      const result = await send(email);
      held = false;
      return result;
    };
    const f = [finding("p1", "ann@contoso.com"), finding("p2", "bob@contoso.com")];
    await expect(run(ledger, mail, "2026-11-26", f, { stillHeld: () => held })).rejects.toThrow(/lost its lock/);
    expect(mail.accepted.length).toBe(1);
  });

  it("sends an all-clear that fell on a dry run on the next live run, once", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    const f = finding("p1", "ann@contoso.com");
    await run(ledger, mail, "2026-11-26", [f]);

    const resolved = stateOf(f, "2026-11-26", "2026-11-27");
    const dry = await run(ledger, mail, "2026-11-27", [], { findingStates: [resolved], mode: "dry-run" });
    expect(dry.messages.map((m) => m.kind)).toEqual(["all-clear"]);
    const live = await run(ledger, mail, "2026-11-28", [], { findingStates: [resolved] });
    expect(live.sent).toBe(1);
    const again = await run(ledger, mail, "2026-11-29", [], { findingStates: [resolved] });
    expect(again.sent).toBe(0);
    expect(mail.delivered("ann@contoso.com").map((m) => m.subject)).toEqual(["digest ann@contoso.com", "all clear ann@contoso.com"]);
  });

  it("tells no all-clear to an owner who still has a finding the ledger holds open in a scope this run could not read", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    const a = finding("p1", "ann@contoso.com");
    const b = finding("p2", "ann@contoso.com");
    await run(ledger, mail, "2026-11-26", [a, b]);
    const state = (x: Finding, resolvedOn?: string) => stateOf(x, "2026-11-26", resolvedOn);
    const next = await run(ledger, mail, "2026-11-27", [], { findingStates: [state(a, "2026-11-27"), state(b)] });
    expect(next.messages.filter((m) => m.kind === "all-clear")).toEqual([]);
  });

  it("tells no all-clear to an owner whose other finding is in the report, snoozed, under another case of her address", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    const a = finding("p1", "ann@contoso.com");
    await run(ledger, mail, "2026-11-26", [a]);
    const snoozed = { ...finding("p2", "ANN@contoso.com"), snoozedUntil: "2027-01-01" };
    const next = await run(ledger, mail, "2026-11-27", [snoozed], { findingStates: [stateOf(a, "2026-11-26", "2026-11-27")] });
    expect(next.messages.filter((m) => m.kind === "all-clear")).toEqual([]);
    // The same days without the snoozed finding: she is told.
    const control = new MemoryLedger();
    await run(control, new ScriptedMailService(), "2026-11-26", [a]);
    const alone = await run(control, new ScriptedMailService(), "2026-11-27", [], { findingStates: [stateOf(a, "2026-11-26", "2026-11-27")] });
    expect(alone.messages.map((m) => m.kind)).toEqual(["all-clear"]);
  });
});

/** Thirty owners whose sends' answers were all lost: 30 pending intents, whose operations the service has. */
async function thirtyLostSends() {
  const ledger = new MemoryLedger();
  const findings = Array.from({ length: 30 }, (_, i) => finding(`p${i}`, `owner${i}@contoso.com`));
  const lost = new ScriptedMailService().then(...findings.map(() => "no-answer" as const));
  for (let i = 0; i < 30 && (await ledger.outbox({ status: "pending" })).length < 30; i++) {
    // Each run leaves one more pending intent (the run stops at the first unclear answer) and reads none.
    await run(ledger, lost, "2026-11-26", findings, { statusReads: { perMinute: 1, perHour: 0 } });
  }
  return { ledger, findings, lost };
}

/** A MemoryLedger that counts the messages its outbox reads hand back (what a run holds of the outbox). */
class CountingLedger extends MemoryLedger {
  handedBack = 0;
  override async outbox(filter: Parameters<MemoryLedger["outbox"]>[0] = {}) {
    const entries = await super.outbox(filter);
    this.handedBack += entries.length;
    return entries;
  }
}

const sentLongAgo = (i: number): OutboxEntry => ({
  operationId: `old-${i}`,
  kind: "digest",
  recipient: `owner${i}@contoso.com`,
  owner: `owner${i}@contoso.com`,
  asOf: "2025-11-26",
  runId: "run-2025-11-26",
  items: [{ findingId: `f${i}`, milestone: "overdue-1" }],
  status: "sent",
  updatedAt: "2025-11-26T07:00:00Z",
});

describe("what a run reads of the outbox", () => {
  it("reads only the days its messages could be from: a year of messages sent is not read, and the run is the same", async () => {
    const ledger = new CountingLedger();
    for (let i = 0; i < 500; i++) ledger.entries.set(`old-${i}`, sentLongAgo(i));
    const findings = [finding("p1", "ann@contoso.com"), finding("p2", "owner3@contoso.com")];

    const result = await run(ledger, new ScriptedMailService(), "2026-11-26", findings);
    const withoutThem = await run(new MemoryLedger(), new ScriptedMailService(), "2026-11-26", findings);

    expect(result.messages).toEqual(withoutThem.messages);
    expect(result.sent).toBe(2);
    expect(ledger.handedBack).toBeLessThan(10);
  });

  it("counts the deliveries of the last 30 days in its report, the 30th day's included", async () => {
    const ledger = new MemoryLedger();
    const delivered = (i: number, asOf: string): OutboxEntry => ({ ...sentLongAgo(i), asOf, delivery: { status: "Delivered", at: `${asOf}T08:00:00Z` } });
    ledger.entries.set("old-1", delivered(1, "2026-10-27"));
    ledger.entries.set("old-2", delivered(2, "2026-10-26"));

    const result = await run(ledger, new ScriptedMailService(), "2026-11-26", []);

    expect(result.delivery).toMatchObject({ delivered: 1 });
  });

  it("an all-clear sent on its resolution's day is known as sent on the last day it could be planned: not sent again, and the run does not fail", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    const f = finding("p1", "ann@contoso.com");
    await run(ledger, mail, "2026-10-27", [f]);
    const resolved = stateOf(f, "2026-10-27", "2026-10-28");
    expect((await run(ledger, mail, "2026-10-28", [], { findingStates: [resolved] })).sent).toBe(1);

    // Thirty days after the resolution, the all-clear is still planned (ALL_CLEAR_WINDOW_DAYS): its message of the
    // resolution's day must be among those read, or its intent would be refused as another run's.
    const last = await run(ledger, mail, "2026-11-27", [], { findingStates: [resolved] });
    expect(last.messages.map((m) => [m.kind, m.outcome])).toEqual([["all-clear", "already-sent"]]);
    expect(mail.delivered("ann@contoso.com").map((m) => m.subject)).toEqual(["digest ann@contoso.com", "all clear ann@contoso.com"]);
  });

  it("a message still pending from long ago holds back its recipient's next one, whatever its day", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    ledger.entries.set("lost", { ...sentLongAgo(0), operationId: "lost", recipient: "ann@contoso.com", owner: "ann@contoso.com", status: "pending" });

    // No status reads left this hour: the lost one stays pending, unknown.
    const result = await run(ledger, mail, "2026-11-26", [finding("p1", "ann@contoso.com")], { statusReads: { perMinute: 0, perHour: 0 } });

    expect(result.sent).toBe(0);
    expect(result.messages.map((m) => m.outcome)).toEqual(["pending"]);
    expect(mail.delivered("ann@contoso.com")).toEqual([]);
  });
});

describe("the finding states a run holds through its sending (statesForReminders)", () => {
  it("are the open ones, those in the all-clear's window and those resolved later; the ones left out change nothing it plans or sends", async () => {
    const owned = (pool: string, owner: string, resolvedOn?: string): [Finding, FindingState] => {
      const f = finding(pool, owner);
      return [f, { ...stateOf(f, "2026-09-01", resolvedOn), owners: [owner] }];
    };
    const ann = owned("p1", "ann@contoso.com", "2026-11-16"); // resolved ten days ago: ann is clear
    const bob = owned("p2", "bob@contoso.com", "2026-10-17"); // forty days ago: past the window
    const catOpen = owned("p3", "cat@contoso.com"); // open in the ledger, not found this run (a scope not read)
    const catResolved = owned("p4", "cat@contoso.com", "2026-11-20"); // resolved, but cat still has p3
    const dan = owned("p5", "dan@contoso.com", "2026-11-30"); // resolved on a later day than the run's
    const all = [ann, bob, catOpen, catResolved, dan];
    const states = all.map(([, st]) => st);

    expect(statesForReminders(states, "2026-11-26").map((st) => st.findingId)).toEqual([ann, catOpen, catResolved, dan].map(([f]) => f.id));

    const sendWith = async (findingStates: FindingState[]) => {
      const ledger = new MemoryLedger();
      const mail = new ScriptedMailService();
      // Told long enough ago (past KEPT_DAYS) that only the states given keep their histories.
      await run(ledger, mail, "2026-08-01", all.map(([f]) => f));
      const result = await run(ledger, mail, "2026-11-26", [], { findingStates });
      return {
        messages: result.messages.map((m) => [m.kind, m.recipient, m.outcome]),
        accepted: mail.accepted.map((o) => [o.email.to, o.email.subject]),
        histories: [...ledger.history.keys()].sort(),
      };
    };
    const whole = await sendWith(states);
    const given = await sendWith(statesForReminders(states, "2026-11-26"));
    expect(whole.messages).toEqual([["all-clear", "ann@contoso.com", "sent"]]);
    expect(given.messages).toEqual(whole.messages);
    expect(given.accepted).toEqual(whole.accepted);
    // What is left out lets its finding's histories go: bob's (resolved before the window, told long ago), not dan's
    // (resolved after the run's day: a replay for an earlier day must not lose it).
    expect(given.histories.map((k) => k.split("|")[0])).toEqual(["ann@contoso.com", "cat@contoso.com", "cat@contoso.com", "dan@contoso.com"]);
    expect(whole.histories).toHaveLength(5);
  });
});

describe("reminder histories no run reads again", () => {
  const told = (on: string, overdue = 1) => ({ firstNotifiedOn: on, lastNotifiedOn: on, lastMilestone: `overdue-${overdue}`, overdueRemindersSent: overdue, sent: [{ on, milestone: `overdue-${overdue}` }] });
  const AS_OF = "2026-11-26";
  const longAgo = addDays(AS_OF, -(KEPT_DAYS + 27));

  it("are deleted: of a finding neither in the report nor among the states given, last moved more than KEPT_DAYS ago", async () => {
    const ledger = new MemoryLedger();
    const [p1, p2, p3, p4, p5] = ["p1", "p2", "p3", "p4", "p5"].map((p) => finding(p, "x@contoso.com")) as [Finding, Finding, Finding, Finding, Finding];
    ledger.history.set(historyKey("ann@contoso.com", p1.id), told(longAgo)); // resolved long ago: gone
    ledger.history.set(historyKey("bob@contoso.com", p2.id), told(longAgo)); // in the report (snoozed that long): kept
    ledger.history.set(historyKey("cat@contoso.com", p3.id), told(longAgo)); // resolved lately: its all-clear needs it
    ledger.history.set(historyKey("dan@contoso.com", p4.id), told(addDays(AS_OF, -KEPT_DAYS))); // on the edge: kept
    ledger.history.set(historyKey("eve@contoso.com", p5.id), told(addDays(AS_OF, 3))); // dated after the run's day: kept
    const resolvedP3 = { ...stateOf(p3, longAgo, addDays(AS_OF, -5)), owners: ["cat@contoso.com"] };

    const result = await run(ledger, new ScriptedMailService(), AS_OF, [{ ...finding("p2", "bob@contoso.com"), snoozedUntil: "2027-01-01" }], { findingStates: [resolvedP3] });

    expect(result.forgottenHistories).toBe(1);
    expect([...ledger.history.keys()].map((k) => k.split("|")[0]).sort()).toEqual(["bob@contoso.com", "cat@contoso.com", "dan@contoso.com", "eve@contoso.com"]);
    expect(result.messages.map((m) => [m.kind, m.recipient])).toEqual([["all-clear", "cat@contoso.com"]]);
  });

  it("are left in the ledger by a dry run, which plans as if they were gone", async () => {
    const ledger = new MemoryLedger();
    const p1 = finding("p1", "ann@contoso.com");
    ledger.history.set(historyKey("ann@contoso.com", p1.id), told(longAgo));
    // ann's only history is stale: planned without it, her resolved finding's all-clear is not hers to get.
    const p2 = finding("p2", "ann@contoso.com");
    const resolvedP2 = { ...stateOf(p2, longAgo, addDays(AS_OF, -5)), owners: ["ann@contoso.com"] };

    const dry = await run(ledger, new ScriptedMailService(), AS_OF, [], { findingStates: [resolvedP2], mode: "dry-run" });

    expect(dry.forgottenHistories).toBe(0);
    expect(ledger.history.size).toBe(1);
    expect(dry.messages).toEqual([]);
    const live = await run(ledger, new ScriptedMailService(), AS_OF, [], { findingStates: [resolvedP2] });
    expect(live.forgottenHistories).toBe(1);
    expect(live.messages).toEqual([]);
  });

  it("that cannot be deleted do not fail the run: it says why, and they go on a later run", async () => {
    const ledger = new MemoryLedger();
    ledger.refuseDeletes = new AuditError("LEDGER.UNAVAILABLE", "The reminder ledger could not write (403)");
    const mail = new ScriptedMailService();
    ledger.history.set(historyKey("ann@contoso.com", finding("gone", "ann@contoso.com").id), told(longAgo));

    const refused = await run(ledger, mail, AS_OF, [finding("p1", "bob@contoso.com")]);

    expect(refused.forgottenHistories).toBe(0);
    expect(refused.forgetProblem).toContain("403");
    expect(mail.delivered("bob@contoso.com")).toHaveLength(1);
    ledger.refuseDeletes = undefined;
    expect((await run(ledger, mail, addDays(AS_OF, 1), [finding("p1", "bob@contoso.com")])).forgottenHistories).toBe(1);
  });

  it("a finding back after its history went is told as news, its overdue reminders counted again from one", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    const p1 = finding("p1", "ann@contoso.com");
    ledger.history.set(historyKey("ann@contoso.com", p1.id), told(longAgo, 4));

    expect((await run(ledger, mail, AS_OF, [])).forgottenHistories).toBe(1);
    await run(ledger, mail, addDays(AS_OF, 1), [p1]);

    expect(mail.delivered("ann@contoso.com").map((m) => m.subject)).toEqual(["digest ann@contoso.com"]);
    expect(ledger.history.get(historyKey("ann@contoso.com", p1.id))).toMatchObject({ lastMilestone: "overdue-1", overdueRemindersSent: 1 });
  });

  it(`go at most ${FORGOTTEN_PER_RUN} a run, the oldest first`, async () => {
    const ledger = new MemoryLedger();
    for (let i = 0; i < FORGOTTEN_PER_RUN; i++) ledger.history.set(historyKey("ann@contoso.com", `f${i}`), told(longAgo));
    for (let i = 0; i < 5; i++) ledger.history.set(historyKey("ann@contoso.com", `g${i}`), told(addDays(longAgo, -1)));

    expect((await run(ledger, new ScriptedMailService(), AS_OF, [])).forgottenHistories).toBe(FORGOTTEN_PER_RUN);
    expect([...ledger.history.keys()]).toHaveLength(5);
    expect([...ledger.history.keys()].every((k) => k.includes("|f"))).toBe(true);
    expect((await run(ledger, new ScriptedMailService(), AS_OF, [])).forgottenHistories).toBe(5);
    expect(ledger.history.size).toBe(0);
  });
});
