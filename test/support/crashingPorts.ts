// "The process is killed here": wrappers around the ReminderLedger and EmailSender ports that throw ProcessKilled at a
// chosen point of the send path, and after that refuse every call, as a dead process would make none.
import type { DeliveryResult, EmailSender, FindingState, OutboxEntry, OutboxFilter, OutboxStatus, OutgoingEmail, ReminderLedger, RunRecord, DeliveryReport } from "../../src/core/ports.js";
import type { ReminderHistory } from "../../src/core/schedule.js";

export const CRASH_POINTS = ["before-intent", "after-intent", "after-accept", "after-outcome"] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export class ProcessKilled extends Error {
  constructor(readonly point: string) {
    super(`process killed (${point})`);
    this.name = "ProcessKilled";
  }
}

/** One process's life: it dies the `nth` time it reaches `point` (1-based), or never. */
export class DoomedProcess {
  private readonly reached = new Map<CrashPoint, number>();
  killed: CrashPoint | undefined;

  constructor(private readonly crash?: { point: CrashPoint; nth: number }) {}

  reach(point: CrashPoint): void {
    this.alive();
    const n = (this.reached.get(point) ?? 0) + 1;
    this.reached.set(point, n);
    if (this.crash && this.crash.point === point && this.crash.nth === n) {
      this.killed = point;
      throw new ProcessKilled(point);
    }
  }

  alive(): void {
    if (this.killed) throw new ProcessKilled(`already dead at ${this.killed}`);
  }
}

export class CrashingLedger implements ReminderLedger {
  constructor(
    private readonly inner: ReminderLedger,
    private readonly process: DoomedProcess,
  ) {}

  histories(): Promise<Map<string, ReminderHistory>> {
    this.process.alive();
    return this.inner.histories();
  }
  forgetHistories(keys: readonly string[]): Promise<void> {
    this.process.alive();
    return this.inner.forgetHistories(keys);
  }
  outbox(filter?: OutboxFilter): Promise<OutboxEntry[]> {
    this.process.alive();
    return this.inner.outbox(filter);
  }
  outboxStatuses(filter?: OutboxFilter): Promise<OutboxStatus[]> {
    this.process.alive();
    return this.inner.outboxStatuses(filter);
  }
  async recordIntent(entry: OutboxEntry): Promise<"recorded" | "exists"> {
    this.process.reach("before-intent");
    const result = await this.inner.recordIntent(entry);
    this.process.reach("after-intent");
    return result;
  }
  async recordOutcome(entry: OutboxEntry, outcome: { status: "sent" | "failed" | "abandoned"; error?: string }, at: string): Promise<void> {
    this.process.alive();
    await this.inner.recordOutcome(entry, outcome, at);
    this.process.reach("after-outcome");
  }
  recordDelivery(report: DeliveryReport): Promise<"recorded" | "unchanged" | "unknown"> {
    this.process.alive();
    return this.inner.recordDelivery(report);
  }
  acceptedSince(isoTime: string): Promise<string[]> {
    this.process.alive();
    return this.inner.acceptedSince(isoTime);
  }
  statusReadsSince(isoTime: string): Promise<number> {
    this.process.alive();
    return this.inner.statusReadsSince(isoTime);
  }
  recordStatusReads(batch: string, count: number, at: string): Promise<void> {
    this.process.alive();
    return this.inner.recordStatusReads(batch, count, at);
  }
  findingStates(): Promise<FindingState[]> {
    this.process.alive();
    return this.inner.findingStates();
  }
  saveFindingStates(states: FindingState[], trackedOn?: string): Promise<void> {
    this.process.alive();
    return this.inner.saveFindingStates(states, trackedOn);
  }
  forgetFindingStates(findingIds: readonly string[]): Promise<void> {
    this.process.alive();
    return this.inner.forgetFindingStates(findingIds);
  }
  recordRun(run: RunRecord): Promise<void> {
    this.process.alive();
    return this.inner.recordRun(run);
  }
  runHistory(): Promise<RunRecord[]> {
    this.process.alive();
    return this.inner.runHistory();
  }
}

export class CrashingSender implements EmailSender {
  constructor(
    private readonly inner: EmailSender,
    private readonly process: DoomedProcess,
  ) {}

  async send(email: OutgoingEmail): Promise<DeliveryResult> {
    this.process.alive();
    const result = await this.inner.send(email);
    // The service has the message; the process dies before it hears so.
    this.process.reach("after-accept");
    return result;
  }
  lookup(operationId: string): Promise<DeliveryResult | { status: "NotFound" }> {
    this.process.alive();
    return this.inner.lookup(operationId);
  }
}
