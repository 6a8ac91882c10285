// The outbox's pace: when a send fits EMAIL_PER_MINUTE and EMAIL_PER_HOUR (sliding windows, as Communication
// Services counts them; Microsoft Learn, "Service limits for Azure Communication Services"), counting what earlier
// runs sent within the hour, and when, at those limits and on SEND_SCHEDULE, the outbox will be empty. Pure: times
// are passed in.

export interface SendLimits {
  perMinute: number;
  perHour: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * The longest a run waits for a free slot. The per-minute window frees within a minute; the hourly one frees within
 * minutes when the run an hour ago is still in its last sends (100 at 30 a minute take 3.3 minutes): waiting for that
 * keeps an hourly schedule at the full hourly limit. A longer wait would hold the run lock for nothing: the rest
 * waits for the next run.
 */
export const MAX_SLOT_WAIT_MS = 10 * MINUTE_MS;

/** How far ahead an ETA is looked for; a backlog that needs longer has none ("not within 60 days"). */
export const DRAIN_HORIZON_DAYS = 60;

/**
 * The earliest time at or after `t` at which one more send keeps both windows within their limits, given the earlier
 * sends (epoch ms, ascending). A send at `s` counts in a window of length W while the time is before `s + W`.
 */
export function nextSlot(t: number, sends: readonly number[], limits: SendLimits): number {
  let at = t;
  for (const [limit, windowMs] of [
    [limits.perMinute, MINUTE_MS],
    [limits.perHour, HOUR_MS],
  ] as const) {
    const first = firstAfter(sends, at - windowMs);
    const inWindow = sends.length - first;
    const freeing = sends[sends.length - limit];
    if (inWindow >= limit && freeing !== undefined) at = Math.max(at, freeing + windowMs);
  }
  return at;
}

/** The index of the first of the ascending `sends` after `t` (binary search: an estimate looks at thousands). */
function firstAfter(sends: readonly number[], t: number): number {
  let lo = 0;
  let hi = sends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sends[mid] ?? 0) > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Paces one run's sends to both windows, seeded with what the ledger says was accepted in the last hour. */
export class SendPacer {
  private readonly sends: number[];

  constructor(
    private readonly limits: SendLimits,
    acceptedWithinHour: readonly string[],
    private readonly now: () => Date,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.sends = acceptedWithinHour.map((t) => Date.parse(t)).filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
  }

  /** Waits until one more send fits; false (without waiting) when that is more than MAX_SLOT_WAIT_MS away. */
  async admit(): Promise<boolean> {
    for (;;) {
      const t = this.now().getTime();
      const at = nextSlot(t, this.sends, this.limits);
      if (at <= t) return true;
      if (at - t > MAX_SLOT_WAIT_MS) return false;
      await this.sleep(at - t + 1);
    }
  }

  /** A send goes out now. */
  record(): void {
    this.sends.push(this.now().getTime());
  }

  /** The sends of the last hour, this run's included (epoch ms, ascending). */
  recent(): number[] {
    const t = this.now().getTime();
    return this.sends.filter((s) => s > t - HOUR_MS);
  }
}

export interface DrainInput {
  /** Messages still to send. */
  messages: number;
  now: Date;
  /** Sends of the last hour (epoch ms, ascending): they still count against the windows. */
  recentSends: readonly number[];
  limits: SendLimits;
  /** How long a run may send (RUN_BUDGET_MINUTES). */
  runMinutes: number;
  /** When the sending timer fires next after a time (SEND_SCHEDULE). */
  nextRun: (after: Date) => Date | undefined;
  /** The run at `now` is about to send (the estimate is made before its sends), rather than done. */
  sendingNow: boolean;
}

export interface DrainEstimate {
  /** When the last message goes out, at these limits on this schedule; absent when not within DRAIN_HORIZON_DAYS. */
  eta?: string;
  /** Runs that send something, this one included when `sendingNow`. */
  runs: number;
}

/**
 * When the outbox will be empty: each run (this one, if it is about to send, then each SEND_SCHEDULE firing) sends as
 * the pacer would, until its time is up or the next slot is more than MAX_SLOT_WAIT_MS away. Daily audit runs send
 * too, which this leaves out: the estimate errs late, never early.
 */
export function estimateDrain(input: DrainInput): DrainEstimate {
  if (input.messages <= 0) return { runs: 0 };
  const horizon = input.now.getTime() + DRAIN_HORIZON_DAYS * 86_400_000;
  const sends = [...input.recentSends];
  let remaining = input.messages;
  let runs = 0;
  let last = input.now.getTime();
  let start: number | undefined = input.sendingNow ? input.now.getTime() : input.nextRun(input.now)?.getTime();
  while (start !== undefined && start <= horizon) {
    const end = start + input.runMinutes * MINUTE_MS;
    let clock = start;
    let sent = 0;
    while (remaining > 0) {
      const at = nextSlot(clock, sends, input.limits);
      if (at - clock > MAX_SLOT_WAIT_MS || at >= end) break;
      sends.push(at);
      clock = at;
      last = at;
      remaining--;
      sent++;
    }
    if (sent > 0) runs++;
    if (remaining === 0) return { eta: new Date(last).toISOString(), runs };
    // The next firing after this run let go of the lock (a firing while it runs finds the lock held).
    start = input.nextRun(new Date(Math.max(clock, start)))?.getTime();
  }
  return { runs };
}
