// What bounds a send phase: the run's time budget, and a status lookup that fails (issue 16, items 9 and 10).
import { describe, expect, it } from "vitest";
import { AuditError } from "../../../src/core/errors.js";
import type { AuditReport, Finding } from "../../../src/core/model.js";
import type { DeliveryResult } from "../../../src/core/ports.js";
import { sendReminders, type MessageRenderer, type ReminderDependencies } from "../../../src/core/sendReminders.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { MemoryLedger, ScriptedMailService } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const ACCOUNT = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct";
const OWNERS = ["ann@contoso.com", "ben@contoso.com", "cat@contoso.com"];

const finding = (owner: string): Finding => ({
  id: `pool-certificate-reference:${ACCOUNT}/pools/${owner}`.toLowerCase(),
  kind: "pool-certificate-reference",
  severity: "critical",
  resourceId: `${ACCOUNT}/pools/${owner}`,
  subscriptionId: "11111111-1111-4111-8111-111111111111",
  resourceGroup: "rg",
  accountName: "acct",
  accountId: ACCOUNT,
  references: [],
  detail: "",
  owners: [{ address: owner, source: 'account tag "owner"' }],
});

const report = (asOf: string): AuditReport => minimalReport(asOf, OWNERS.map(finding));

const renderer: MessageRenderer = {
  digest: async (plan) => ({ subject: `digest ${plan.recipient}`, html: "<p>d</p>", text: "d" }),
  allClear: async (plan) => ({ subject: `all clear ${plan.recipient}`, html: "<p>c</p>", text: "c" }),
  adminSummary: async () => ({ subject: "summary", html: "<p>s</p>", text: "s" }),
};

function run(ledger: MemoryLedger, mail: ScriptedMailService, asOf: string, extra: Partial<ReminderDependencies> = {}) {
  return sendReminders(
    { ledger, sender: mail, renderer, hash: (s) => s, now: () => new Date(`${asOf}T07:00:00Z`), sleep: async () => undefined, ...extra },
    { report: report(asOf), findingStates: [], runId: `run-${asOf}`, policy: defaultReminderPolicy("2024-02-29"), escalationContacts: [], adminSummaryTo: [], allowedRecipientDomains: [], mode: "live", limits: { perMinute: 100, perHour: 1000 } },
  );
}

/** A mail service whose status lookups fail (HTTP 500) until told otherwise. */
class LookupFailing extends ScriptedMailService {
  failing = true;
  override async lookup(operationId: string): Promise<DeliveryResult | { status: "NotFound" }> {
    if (this.failing) throw new AuditError("EMAIL.SEND_FAILED", "Could not read the email operation status (HTTP 500).", { retryable: true, statusCode: 500 });
    return super.lookup(operationId);
  }
}

describe("the send phase within a run's limits", () => {
  it("stops sending once the run's time budget is spent; what is left is deferred to the next run, not lost", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    const first = await run(ledger, mail, "2026-11-26", { outOfTime: () => mail.accepted.length >= 1 });
    expect(first).toMatchObject({ sent: 1, deferred: 2 });

    const second = await run(ledger, mail, "2026-11-26");
    expect(second).toMatchObject({ planned: 2, sent: 2, deferred: 0 });
    for (const owner of OWNERS) expect(mail.delivered(owner)).toHaveLength(1);
  });

  it("a status lookup that fails leaves that message pending and reported, sends every other message, and never sends it blind", async () => {
    const ledger = new MemoryLedger();
    const mail = new LookupFailing().then("no-answer");
    const first = await run(ledger, mail, "2026-11-26");
    // Sends already out beside the unanswered one may finish (up to SEND_CONCURRENCY are out); none starts after it.
    expect(first.unconfirmed).toBe(1);
    expect(first.sent + first.deferred).toBe(3);

    const second = await run(ledger, mail, "2026-11-26");
    expect(second.lookupFailed).toEqual([{ recipient: OWNERS[0], operationId: expect.any(String) as unknown, error: expect.stringMatching(/HTTP 500/) as unknown }]);
    expect(second).toMatchObject({ sent: 2 - first.sent, unconfirmed: 1 });
    expect(await ledger.outbox({ status: "pending" })).toHaveLength(1);

    mail.failing = false;
    const third = await run(ledger, mail, "2026-11-26");
    expect(third).toMatchObject({ sent: 0, recovered: { sent: 1, failed: 0, abandoned: 0 }, lookupFailed: [] });
    for (const owner of OWNERS) expect(mail.accepted.filter((o) => o.email.to === owner)).toHaveLength(1);
  });

  it("renders only the messages that fit this run's hourly budget: the rest are deferred unrendered", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    let renders = 0;
    const counting: MessageRenderer = {
      digest: async (plan) => (renders++, renderer.digest(plan)),
      allClear: async (plan) => (renders++, renderer.allClear(plan)),
      adminSummary: async (summary) => (renders++, renderer.adminSummary(summary)),
    };
    const result = await sendReminders(
      { ledger, sender: mail, renderer: counting, hash: (s) => s, now: () => new Date("2026-11-26T07:00:00Z"), sleep: async () => undefined },
      { report: report("2026-11-26"), findingStates: [], runId: "run-1", policy: defaultReminderPolicy("2024-02-29"), escalationContacts: [], adminSummaryTo: [], allowedRecipientDomains: [], mode: "live", limits: { perMinute: 100, perHour: 2 } },
    );
    expect(result.sent).toBe(2);
    expect(result.deferred).toBe(1);
    expect(renders).toBe(2);
    expect(result.rendered).toBe(2);
  });

  it("reports a message that cannot be rendered and goes on with the others, recording nothing for it", async () => {
    const ledger = new MemoryLedger();
    const mail = new ScriptedMailService();
    const breaking: MessageRenderer = {
      ...renderer,
      digest: async (plan) => {
        if (plan.recipient === "ben@contoso.com") throw new Error("template failed");
        return renderer.digest(plan);
      },
    };
    const result = await sendReminders(
      { ledger, sender: mail, renderer: breaking, hash: (s) => s, now: () => new Date("2026-11-26T07:00:00Z"), sleep: async () => undefined },
      { report: report("2026-11-26"), findingStates: [], runId: "run-1", policy: defaultReminderPolicy("2024-02-29"), escalationContacts: [], adminSummaryTo: [], allowedRecipientDomains: [], mode: "live", limits: { perMinute: 100, perHour: 100 } },
    );
    expect(result.sent).toBe(2);
    expect(result.failed).toEqual([{ recipient: "ben@contoso.com", error: "could not be rendered: template failed" }]);
    expect((await ledger.outbox()).map((e) => e.recipient).sort()).toEqual(["ann@contoso.com", "cat@contoso.com"]);
  });
});
