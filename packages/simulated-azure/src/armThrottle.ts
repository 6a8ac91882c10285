// ARM's per-subscription read throttling: a token bucket per subscription (Azure documents 250 reads, refilled at
// 25 per second). An empty bucket answers 429 with Retry-After; every answer says what is left in
// x-ms-ratelimit-remaining-subscription-reads, as ARM does, so a client can pace itself instead of failing.

export interface ArmThrottleOptions {
  /** Bucket size: the burst a subscription allows (ARM: 250). */
  capacity: number;
  /** Tokens added per second (ARM: 25). */
  refillPerSecond: number;
}

export const ARM_READS_DEFAULT: ArmThrottleOptions = { capacity: 250, refillPerSecond: 25 };

export type ThrottleDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

export class ArmThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly options: ArmThrottleOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(subscriptionId: string): ThrottleDecision {
    const key = subscriptionId.toLowerCase();
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.options.capacity, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.options.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.options.refillPerSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      // Retry-After is whole seconds in ARM's answers, so a client that waits for it waits at least a second.
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.options.refillPerSecond)) };
    }
    bucket.tokens -= 1;
    return { allowed: true, remaining: Math.floor(bucket.tokens) };
  }
}
