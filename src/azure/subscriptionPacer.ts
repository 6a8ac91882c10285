// Paces ARM reads per subscription so a throttled subscription never stalls the others.
//
// ARM throttles reads with a token bucket per subscription (250 requests, refilled at 25 per second) and answers
// 429 + Retry-After when it is empty. The SDK's own retry policy would sleep out that Retry-After while the caller
// holds a concurrency slot, so one hot subscription (1,000 accounts) could fill every slot and stall the tenant.
// Here each request waits in its subscription's queue *before* it takes a slot: the pacer keeps a mirror of every
// subscription's bucket (corrected by the x-ms-ratelimit-remaining-subscription-reads header), hands slots round-robin
// to subscriptions that have a token, and defers a subscription that has none (or that was told to retry later)
// while the others proceed. It is a pipeline policy, so it paces every page request, nextLinks included.
import type { PipelinePolicy, PipelineResponse } from "@azure/core-rest-pipeline";

export interface SubscriptionPacerOptions {
  /** Requests in flight at once over all subscriptions. */
  maxInFlight?: number;
  /** Calls (each one or more page requests) started at once; defaults to twice maxInFlight. */
  maxCalls?: number;
  /** The bucket ARM keeps per subscription; the mirror starts full. */
  capacity?: number;
  refillPerSecond?: number;
  /** 429s one request may meet before its answer is handed back to the caller as an error. */
  maxThrottledAttempts?: number;
  /**
   * The longest Retry-After the pacer waits out (MAX_RETRY_WAIT_SECONDS). A 429 asking for more is handed back to
   * the caller at once, and holds its subscription back no longer than this.
   */
  maxRetryWaitMs?: number;
  now?: () => number;
}

type Kind = "requests" | "calls";

interface Lane {
  key: string;
  tokens: number;
  refilledAt: number;
  /** No request goes before this time (Retry-After). */
  blockedUntil: number;
  activeCalls: number;
  /** Requests of this subscription sent and not yet answered. */
  requestsOut: number;
  waiters: Record<Kind, (() => void)[]>;
  queued: Record<Kind, boolean>;
}

/**
 * Every this many times a lane is asked for (a call or a request), the lanes a fresh one would equal are let go:
 * idle, unthrottled and refilled to the bucket's capacity. At 20,000 subscriptions the lanes kept after their last
 * call were 6 MB of the audit's heap as its reads ended; a subscription asked for again gets a fresh lane, which is
 * exactly the state it was let go in.
 */
const SWEEP_EVERY = 1024;

export const subscriptionPacingPolicyName = "subscriptionPacingPolicy";

export class SubscriptionPacer {
  readonly maxInFlight: number;
  private readonly maxCalls: number;
  private readonly capacity: number;
  private readonly rate: number;
  /** Calls a lane may have started beyond its whole tokens: what it can send in half a second, so a lane paced at
   * its refill rate keeps enough calls going to use every token despite the round trip. */
  private readonly slack: number;
  private readonly maxThrottledAttempts: number;
  private readonly maxRetryWaitMs: number;
  private readonly now: () => number;
  private readonly lanes = new Map<string, Lane>();
  private lanesAsked = 0;
  private readonly queues: Record<Kind, FairQueue>;
  private inFlight = 0;
  private activeCalls = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Requests sent, 429s met, and the most requests ever in flight, for benchmarks and logs. */
  readonly stats = { requests: 0, throttled: 0, peakInFlight: 0 };

  constructor(options: SubscriptionPacerOptions = {}) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 64);
    this.maxCalls = Math.max(1, options.maxCalls ?? this.maxInFlight * 2);
    this.capacity = options.capacity ?? 250;
    this.rate = options.refillPerSecond ?? 25;
    this.slack = Math.max(1, Math.ceil(this.rate / 2));
    this.maxThrottledAttempts = options.maxThrottledAttempts ?? 10;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? Infinity;
    this.now = options.now ?? (() => performance.now());
    this.queues = {
      requests: new FairQueue("requests", {
        hasRoom: () => this.inFlight < this.maxInFlight,
        // One token stays in reserve: ARM's bucket runs a little behind the mirror (it counts a request when it
        // arrives, not when it is sent), and that varies, so a mirror drained to zero would meet the odd 429.
        mayGoAt: (lane, now) => Math.max(lane.blockedUntil, lane.tokens >= 2 ? now : now + ((2 - lane.tokens) / this.rate) * 1000),
        take: (lane) => {
          lane.tokens -= 1;
          lane.requestsOut++;
          this.inFlight++;
          this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight);
        },
      }),
      // A call is started only when its subscription could serve it soon, so calls waiting on a throttled
      // subscription wait here as a closure, not as a started SDK operation holding buffers and a slot.
      calls: new FairQueue("calls", {
        hasRoom: () => this.activeCalls < this.maxCalls,
        mayGoAt: (lane, now) => {
          const allowed = Math.floor(lane.tokens) + this.slack;
          const tokenAt = lane.activeCalls < allowed ? now : now + ((lane.activeCalls - this.slack + 1 - lane.tokens) / this.rate) * 1000;
          return Math.max(lane.blockedUntil, tokenAt);
        },
        take: (lane) => {
          lane.activeCalls++;
          this.activeCalls++;
        },
      }),
    };
  }

  /** Runs one SDK call (all its pages) for a subscription once the pacer admits it. */
  async call<T>(subscriptionId: string, run: () => Promise<T>): Promise<T> {
    const lane = this.lane(subscriptionId);
    await this.wait(lane, "calls");
    try {
      return await run();
    } finally {
      lane.activeCalls--;
      this.activeCalls--;
      this.pump();
    }
  }

  /** A pipeline policy that sends each request through the pacer; the subscription is read from the URL. */
  policy(): PipelinePolicy {
    return {
      name: subscriptionPacingPolicyName,
      sendRequest: async (request, next) => {
        const subscription = /\/subscriptions\/([^/?]+)/i.exec(new URL(request.url).pathname)?.[1];
        if (!subscription) return next(request);
        return this.send(subscription, () => next(request), request.abortSignal);
      },
    };
  }

  /** Sends when the subscription has a token and a slot is free; on 429 waits out Retry-After and sends again. */
  async send(subscriptionId: string, attempt: () => Promise<PipelineResponse>, signal?: { readonly aborted: boolean }): Promise<PipelineResponse> {
    const lane = this.lane(subscriptionId);
    for (let throttled = 0; ; ) {
      await this.wait(lane, "requests");
      let response: PipelineResponse;
      try {
        this.stats.requests++;
        response = await attempt();
      } finally {
        this.inFlight--;
        lane.requestsOut--;
        this.pump();
      }
      this.observe(lane, response);
      if (response.status !== 429 || ++throttled > this.maxThrottledAttempts) return response;
      // A wait beyond the cap is not waited here (the caller fails the call with the reason), nor after the run stopped.
      if (retryAfterMs(response) > this.maxRetryWaitMs || signal?.aborted) return response;
      this.stats.throttled++;
    }
  }

  private lane(subscriptionId: string): Lane {
    if (++this.lanesAsked % SWEEP_EVERY === 0) this.sweep();
    const key = subscriptionId.toLowerCase();
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = {
        key,
        tokens: this.capacity,
        refilledAt: this.now(),
        blockedUntil: 0,
        activeCalls: 0,
        requestsOut: 0,
        waiters: { requests: [], calls: [] },
        queued: { requests: false, calls: false },
      };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /** Lets go of the lanes a fresh one would equal (see SWEEP_EVERY). */
  private sweep(): void {
    const now = this.now();
    for (const [key, lane] of this.lanes) {
      if (lane.activeCalls > 0 || lane.requestsOut > 0 || lane.queued.requests || lane.queued.calls) continue;
      if (lane.waiters.requests.length > 0 || lane.waiters.calls.length > 0 || lane.blockedUntil > now) continue;
      if (lane.tokens + ((now - lane.refilledAt) / 1000) * this.rate < this.capacity) continue;
      this.lanes.delete(key);
    }
  }

  /** Lanes held (for tests and benchmarks). */
  get laneCount(): number {
    return this.lanes.size;
  }

  private wait(lane: Lane, kind: Kind): Promise<void> {
    return new Promise((resolve) => {
      this.queues[kind].enqueue(lane, resolve);
      this.pump();
    });
  }

  /** Lets waiting requests, then waiting calls, go; arms a timer for the earliest one that may not go yet. */
  private pump(): void {
    const now = this.now();
    const refill = (lane: Lane) => this.refill(lane, now);
    const wakeAt = Math.min(this.queues.requests.pump(now, refill), this.queues.calls.pump(now, refill));
    if (wakeAt < Infinity) this.wakeAt(wakeAt);
  }

  private wakeAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(1, Math.ceil(at - this.now())));
  }

  private refill(lane: Lane, now: number): void {
    lane.tokens = Math.min(this.capacity, lane.tokens + ((now - lane.refilledAt) / 1000) * this.rate);
    lane.refilledAt = now;
  }

  private observe(lane: Lane, response: PipelineResponse): void {
    const now = this.now();
    this.refill(lane, now);
    // ARM's count is the truth (other clients may share the bucket); the mirror only ever lowers itself to it,
    // since requests still in flight were already taken from the mirror but not yet from ARM's count.
    const remaining = Number(response.headers.get("x-ms-ratelimit-remaining-subscription-reads") ?? NaN);
    if (Number.isFinite(remaining)) lane.tokens = Math.min(lane.tokens, remaining);
    if (response.status === 429) {
      lane.tokens = Math.min(lane.tokens, 0);
      lane.blockedUntil = Math.max(lane.blockedUntil, now + Math.min(retryAfterMs(response), this.maxRetryWaitMs));
    }
  }
}

/** Round-robin over lanes with waiters of one kind; lanes that may not go yet wait aside until their time. */
class FairQueue {
  private rotation: Lane[] = [];
  private head = 0;
  private deferred: Lane[] = [];

  constructor(
    private readonly kind: Kind,
    private readonly rules: { hasRoom: () => boolean; mayGoAt: (lane: Lane, now: number) => number; take: (lane: Lane) => void },
  ) {}

  enqueue(lane: Lane, resolve: () => void): void {
    lane.waiters[this.kind].push(resolve);
    if (!lane.queued[this.kind]) {
      lane.queued[this.kind] = true;
      this.rotation.push(lane);
    }
  }

  /** Lets waiters go while there is room; returns when the earliest deferred lane may go (Infinity: none). */
  pump(now: number, refill: (lane: Lane) => void): number {
    if (this.deferred.length > 0) {
      const still: Lane[] = [];
      for (const lane of this.deferred) {
        refill(lane);
        if (this.rules.mayGoAt(lane, now) <= now) this.rotation.push(lane);
        else still.push(lane);
      }
      this.deferred = still;
    }
    while (this.head < this.rotation.length && this.rules.hasRoom()) {
      const lane = this.rotation[this.head++] as Lane;
      refill(lane);
      if (this.rules.mayGoAt(lane, now) > now) {
        this.deferred.push(lane);
        continue;
      }
      this.rules.take(lane);
      const waiters = lane.waiters[this.kind];
      (waiters.shift() as () => void)();
      // One per turn, then to the back: lanes share the room fairly.
      if (waiters.length > 0) this.rotation.push(lane);
      else lane.queued[this.kind] = false;
    }
    if (this.head > 1024 && this.head * 2 > this.rotation.length) {
      this.rotation = this.rotation.slice(this.head);
      this.head = 0;
    }
    let wakeAt = Infinity;
    for (const lane of this.deferred) wakeAt = Math.min(wakeAt, this.rules.mayGoAt(lane, now));
    return wakeAt;
  }
}

/** Retry-After in milliseconds from retry-after-ms / x-ms-retry-after-ms / Retry-After (seconds or HTTP date). */
export function retryAfterMs(response: Pick<PipelineResponse, "headers">): number {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const ms = Number(response.headers.get(name) ?? NaN);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  const value = response.headers.get("retry-after");
  if (value) {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(value);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  // A 429 without any hint: one second, about what ARM's bucket needs to hand out a few tokens again.
  return 1000;
}
