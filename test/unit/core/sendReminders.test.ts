import { describe, expect, it } from "vitest";
import { AuditError } from "../../../src/core/errors.js";
import type { AuditReport, Finding } from "../../../src/core/model.js";
import type { FindingState } from "../../../src/core/ports.js";
import { sendReminders, type MessageRenderer, type ReminderRequest } from "../../../src/core/sendReminders.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { MemoryLedger, ScriptedMailService } from "../../support/memoryPorts.js";

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

function report(asOf: string, findings: Finding[]): AuditReport {
  return {
    schemaVersion: "1.1",
    generatedAt: `${asOf}T07:00:00Z`,
    asOf,
    retirementDate: "2024-02-29",
    deadline: "2024-02-29",
    daysSinceDeadline: 1000,
    daysSinceRetirement: 1000,
    coverage: { complete: true, subscriptions: [], accounts: [], problems: [] },
    summary: { findings: findings.length, critical: findings.length, warning: 0, accountCertificates: 0, poolsWithCertificates: findings.length, accountsAudited: 1, accountsFailed: 0, subscriptionsAudited: 1, subscriptionsFailed: 0 },
    findings,
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
    { ledger, sender: mail, renderer, hash: (s) => s, now: () => new Date(clock), sleep: async () => undefined, ...(stillHeld ? { stillHeld } : {}) },
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
    expect(second.recovered).toEqual({ sent: 1, failed: 0, abandoned: 0, running: 0 });
    expect(second.sent).toBe(0);
    expect(mail.accepted.length).toBe(1);
  });

  it("sends again when a message whose answer was lost never reached the service", async () => {
    const ledger = new MemoryLedger();
    const f = [finding("p1", "ann@contoso.com")];
    // The connection drops before the service records anything: the sender cannot tell, so the intent stays pending.
    const unreachable = new ScriptedMailService();
    unreachable.send = async () => {
      throw new AuditError("EMAIL.SEND_FAILED", "ECONNRESET", { retryable: true });
    };
    await run(ledger, unreachable, "2026-11-26", f);

    const service = new ScriptedMailService();
    const second = await run(ledger, service, "2026-11-27", f);
    expect(second.recovered.abandoned).toBe(1);
    expect(service.delivered("ann@contoso.com")).toHaveLength(1);
  });

  it("keeps a send that is still Running pending, and retries it under a new id when it ends Failed", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService().then("running");
    const f = [finding("p1", "ann@contoso.com")];

    await run(ledger, mail, "2026-11-26", f);
    expect((await ledger.outbox({ status: "pending" })).length).toBe(1);
    mail.finish("Failed");

    const second = await run(ledger, mail, "2026-11-27", f);
    expect(second.recovered.failed).toBe(1);
    expect(second.sent).toBe(1);
    expect(mail.accepted.length).toBe(2);
    expect(mail.delivered("ann@contoso.com")).toHaveLength(1);
  });

  it("records a Running send as sent once the next run sees it Succeeded, and sends nothing twice", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService().then("running");
    const f = [finding("p1", "ann@contoso.com")];
    await run(ledger, mail, "2026-11-26", f);
    mail.finish("Succeeded");
    const second = await run(ledger, mail, "2026-11-27", f);
    expect(second).toMatchObject({ sent: 0, recovered: { sent: 1, failed: 0, abandoned: 0 } });
    expect(mail.accepted.length).toBe(1);
  });

  it("keeps a send still Running at recovery pending until its final status is known, sends that owner nothing meanwhile, and retries and reports it once it Failed", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService().then("running");
    const f = [finding("p1", "ann@contoso.com")];
    await run(ledger, mail, "2026-11-26", f);

    // The next run finds it still Running: not final, so not recorded as sent, and no second digest meanwhile.
    const stillRunning = await run(ledger, mail, "2026-12-03", f);
    expect(stillRunning.recovered).toEqual({ sent: 0, failed: 0, abandoned: 0, running: 1 });
    expect(stillRunning).toMatchObject({ sent: 0, awaiting: 1 });
    expect(await ledger.outbox({ status: "pending" })).toHaveLength(1);
    expect(ledger.history.size).toBe(0);
    expect(mail.accepted).toHaveLength(1);

    mail.finish("Failed");
    const afterFailure = await run(ledger, mail, "2026-12-04", f);
    expect(afterFailure.recovered).toMatchObject({ failed: 1, running: 0 });
    expect(afterFailure.failed).toEqual([{ recipient: "ann@contoso.com", error: "EmailDropped: bounced" }]);
    expect(afterFailure.sent).toBe(1);
    expect(mail.delivered("ann@contoso.com")).toHaveLength(1);
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

    const resolved: FindingState = {
      findingId: f.id, kind: f.kind, resourceId: f.resourceId, accountId: f.accountId, accountName: "acct", subscriptionId: SUB,
      severity: "critical", owners: ["ann@contoso.com"], firstSeen: "2026-11-26", lastSeen: "2026-11-26", resolvedOn: "2026-11-27",
    };
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
    const state = (x: Finding, resolvedOn?: string): FindingState => ({
      findingId: x.id, kind: x.kind, resourceId: x.resourceId, accountId: x.accountId, accountName: "acct", subscriptionId: SUB,
      severity: "critical", owners: ["ann@contoso.com"], firstSeen: "2026-11-26", lastSeen: "2026-11-26", ...(resolvedOn ? { resolvedOn } : {}),
    });
    const next = await run(ledger, mail, "2026-11-27", [], { findingStates: [state(a, "2026-11-27"), state(b)] });
    expect(next.messages.filter((m) => m.kind === "all-clear")).toEqual([]);
  });
});
