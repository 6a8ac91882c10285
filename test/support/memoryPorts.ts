// In-memory fakes of the reminder ports, with the same semantics as the Table ledger and the mail service, for
// fast unit tests of the send protocol.
import { historyKey } from "../../src/core/digestPlan.js";
import type { DeliveryReport, DeliveryResult, EmailSender, FindingState, OutboxEntry, OutboxFilter, OutboxStatus, OutgoingEmail, ReminderLedger, RunRecord } from "../../src/core/ports.js";
import { isRecorded, recordReminder, type ReminderHistory } from "../../src/core/schedule.js";
import { AuditError } from "../../src/core/errors.js";
import { asTracked } from "../../src/core/trackFindings.js";

export class MemoryLedger implements ReminderLedger {
  readonly history = new Map<string, ReminderHistory>();
  readonly entries = new Map<string, OutboxEntry>();
  /** As stored: `findingStates` gives them as of `trackedOn`. */
  states: FindingState[] = [];
  /** The day the last tracking recorded (`saveFindingStates`). */
  trackedOn: string | undefined;
  runs: RunRecord[] = [];
  /** Set: every delete (forgetFindingStates, forgetHistories) is refused with this, as storage that will not write. */
  refuseDeletes: AuditError | undefined;

  async histories() {
    return new Map(this.history);
  }
  async forgetHistories(keys: readonly string[]) {
    if (this.refuseDeletes) throw this.refuseDeletes;
    for (const key of keys) this.history.delete(key);
  }
  async outbox(filter: OutboxFilter = {}) {
    return [...this.entries.values()].filter(
      (e) => (!filter.status || e.status === filter.status) && (!filter.since || e.asOf >= filter.since || (filter.orPending === true && e.status === "pending")),
    );
  }
  async outboxStatuses(filter: OutboxFilter = {}): Promise<OutboxStatus[]> {
    return (await this.outbox(filter)).map(({ operationId, kind, recipient, owner, asOf, status, delivery }) => ({ operationId, kind, recipient, owner, asOf, status, ...(delivery ? { delivery } : {}) }));
  }
  async recordIntent(entry: OutboxEntry): Promise<"recorded" | "exists"> {
    const existing = this.entries.get(entry.operationId);
    if (existing && existing.status !== "abandoned") return "exists";
    this.entries.set(entry.operationId, { ...entry });
    return "recorded";
  }
  async recordOutcome(entry: OutboxEntry, outcome: { status: "sent" | "failed" | "abandoned"; error?: string }, at: string) {
    if (outcome.status === "sent") {
      for (const item of entry.items) {
        const key = historyKey(entry.owner, item.findingId);
        const before = this.history.get(key);
        if (isRecorded(before, item.milestone, entry.asOf)) continue;
        this.history.set(key, recordReminder(before, item, entry.asOf));
      }
    }
    // As the Table ledger's merge: a delivery report already recorded is kept.
    const delivery = this.entries.get(entry.operationId)?.delivery;
    this.entries.set(entry.operationId, { ...entry, status: outcome.status, ...(outcome.error ? { error: outcome.error } : {}), updatedAt: at, ...(delivery ? { delivery } : {}) });
  }
  async recordDelivery(report: DeliveryReport): Promise<"recorded" | "unchanged" | "unknown"> {
    const entry = this.entries.get(report.messageId.toLowerCase());
    if (!entry) return "unknown";
    const recorded = !entry.delivery;
    entry.delivery ??= { status: report.status, at: report.at, ...(report.details ? { details: report.details } : {}) };
    // As the Table ledger: a report proves the message was accepted, so a pending or abandoned intent is settled as sent.
    if (entry.status === "pending" || entry.status === "abandoned") {
      const { error: _notFound, ...settled } = entry;
      await this.recordOutcome(settled, { status: "sent" }, report.at);
    }
    return recorded ? "recorded" : "unchanged";
  }
  async acceptedSince(isoTime: string) {
    return [...this.entries.values()].filter((e) => e.status === "sent" && e.updatedAt >= isoTime).map((e) => e.updatedAt);
  }
  /** Status-read batches by id, as the Table ledger keeps them (one row each). */
  readonly statusReads = new Map<string, { count: number; at: string }>();
  async statusReadsSince(isoTime: string) {
    let n = 0;
    for (const b of this.statusReads.values()) if (b.at > isoTime) n += b.count;
    return n;
  }
  async recordStatusReads(batch: string, count: number, at: string) {
    this.statusReads.set(batch, { count, at });
  }
  async findingStates() {
    return this.states.map((s) => asTracked(s, this.trackedOn));
  }
  async saveFindingStates(states: FindingState[], trackedOn?: string) {
    const byId = new Map(this.states.map((s) => [s.findingId, s]));
    for (const s of states) byId.set(s.findingId, s);
    this.states = [...byId.values()];
    if (trackedOn !== undefined) this.trackedOn = trackedOn;
  }
  async forgetFindingStates(findingIds: readonly string[]) {
    if (this.refuseDeletes) throw this.refuseDeletes;
    const forgotten = new Set(findingIds);
    this.states = this.states.filter((s) => !forgotten.has(s.findingId));
  }
  async recordRun(run: RunRecord) {
    this.runs = [...this.runs.filter((r) => r.date !== run.date), run];
  }
  async runHistory() {
    return this.runs;
  }
}

type Behaviour = "succeed" | "fail" | "running" | "no-answer" | "refuse";

/**
 * A mail service: each send behaves as the next scripted behaviour. Like the real service (and unlike the
 * simulator), it does not de-duplicate a repeated operation id: every accepted send is a delivery.
 */
export class ScriptedMailService implements EmailSender {
  readonly accepted: { email: OutgoingEmail; status: "Succeeded" | "Failed" | "Running" }[] = [];
  private script: Behaviour[] = [];

  then(...behaviours: Behaviour[]): this {
    this.script.push(...behaviours);
    return this;
  }

  /** Final status for operations left Running. */
  finish(status: "Succeeded" | "Failed"): void {
    for (const op of this.accepted) if (op.status === "Running") op.status = status;
  }

  delivered(to: string): OutgoingEmail[] {
    return this.accepted.filter((o) => o.email.to === to && o.status !== "Failed").map((o) => o.email);
  }

  async send(email: OutgoingEmail): Promise<DeliveryResult> {
    const behaviour = this.script.shift() ?? "succeed";
    if (behaviour === "refuse") throw new AuditError("EMAIL.SEND_FAILED", "HTTP 429 throttled", { retryable: true, statusCode: 429 });
    const status = behaviour === "fail" ? "Failed" : behaviour === "running" ? "Running" : "Succeeded";
    this.accepted.push({ email, status });
    // Accepted, but the answer is lost on the way back.
    if (behaviour === "no-answer") throw new AuditError("EMAIL.SEND_FAILED", "socket hang up", { retryable: true });
    // The 202: accepted, whatever becomes of the message later.
    return status === "Failed" ? { status, error: "EmailDropped: bounced" } : { status: "Accepted" };
  }

  /** Status reads asked for (the service limits them far below sends). */
  lookups = 0;

  async lookup(operationId: string): Promise<DeliveryResult | { status: "NotFound" }> {
    this.lookups++;
    const op = this.accepted.findLast((o) => o.email.operationId === operationId);
    if (!op) return { status: "NotFound" };
    return op.status === "Failed" ? { status: "Failed", error: "EmailDropped: bounced" } : { status: op.status };
  }
}
