import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import { describe, expect, it, vi } from "vitest";
import { retryAfterMs, SubscriptionPacer } from "../../src/azure/subscriptionPacer.js";

const A = "aaaaaaaa-0000-4000-8000-000000000000";
const B = "bbbbbbbb-0000-4000-8000-000000000000";

function answer(status: number, headers: Record<string, string> = {}): PipelineResponse {
  return { status, headers: createHttpHeaders(headers), request: createPipelineRequest({ url: "https://x" }) };
}
const tick = () => new Promise((r) => setTimeout(r, 1));

describe("the subscription pacer", () => {
  it("lets the other subscriptions proceed while one waits out its Retry-After, then retries it", async () => {
    const pacer = new SubscriptionPacer({ maxInFlight: 2 });
    const order: string[] = [];
    let throttledOnce = false;
    const hot = pacer.send(A, async () => {
      if (!throttledOnce) {
        throttledOnce = true;
        order.push("A 429");
        return answer(429, { "retry-after-ms": "150" });
      }
      order.push("A ok");
      return answer(200);
    });
    await tick();
    // Far more requests for B than there are slots: none of them waits behind A's back-off.
    await Promise.all(Array.from({ length: 20 }, (_, i) => pacer.send(B, async () => (order.push(`B ${i}`), answer(200)))));
    expect(order.includes("A ok")).toBe(false);
    expect((await hot).status).toBe(200);
    expect(order.at(-1)).toBe("A ok");
    expect(pacer.stats.throttled).toBe(1);
  });

  it("lets go of lanes a fresh one would equal (idle and refilled), and keeps a lane that is spent or busy", async () => {
    let now = 0;
    const pacer = new SubscriptionPacer({ maxInFlight: 8, capacity: 10, refillPerSecond: 5, now: () => now });
    const sub = (i: number) => `${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`;
    // Lane 0 has a request out while the sweep runs (the 1st lane asked for).
    let release: (() => void) | undefined;
    const busy = pacer.send(sub(0), () => new Promise<PipelineResponse>((r) => (release = () => r(answer(200)))));
    await tick();
    // Lanes 1..1022 (the 2nd to 1,023rd asked for) each send once, a second apart, so each bucket is full again by
    // the next; the last two send in the instant of the sweep, so their buckets are a token short.
    for (let i = 1; i <= 1022; i++) {
      if (i < 1022) now += 1000;
      await pacer.send(sub(i), async () => answer(200));
    }
    expect(pacer.laneCount).toBe(1023);
    // The 1,024th lane asked for sweeps first: the busy lane and the two spent ones stay, then the new one is made.
    await pacer.send(sub(5000), async () => answer(200));
    expect(pacer.laneCount).toBe(4);
    release?.();
    expect((await busy).status).toBe(200);
  });

  it("never drains the mirrored bucket (one token stays in reserve), and lowers it to what ARM says remains", async () => {
    vi.useFakeTimers();
    try {
      const pacer = new SubscriptionPacer({ maxInFlight: 100, capacity: 5, refillPerSecond: 1, now: () => Date.now() });
      let sent = 0;
      const all = Array.from({ length: 8 }, () => pacer.send(A, async () => (sent++, answer(200, { "x-ms-ratelimit-remaining-subscription-reads": "100" }))));
      await vi.advanceTimersByTimeAsync(10);
      expect(sent).toBe(4);
      await vi.advanceTimersByTimeAsync(2000); // two tokens refilled
      expect(sent).toBe(6);
      await vi.advanceTimersByTimeAsync(2000);
      await Promise.all(all);
      expect(sent).toBe(8);

      // ARM says the bucket is nearly empty (another client used it): the mirror follows.
      const other = new SubscriptionPacer({ maxInFlight: 100, capacity: 5, refillPerSecond: 1, now: () => Date.now() });
      await other.send(B, async () => answer(200, { "x-ms-ratelimit-remaining-subscription-reads": "2" }));
      let more = 0;
      void other.send(B, async () => (more++, answer(200)));
      void other.send(B, async () => (more++, answer(200)));
      await vi.advanceTimersByTimeAsync(10);
      expect(more).toBe(1);
      await vi.advanceTimersByTimeAsync(1000);
      expect(more).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("admits calls only while their subscription can serve them, so throttled calls hold no slot", async () => {
    vi.useFakeTimers();
    try {
      const pacer = new SubscriptionPacer({ maxInFlight: 5, maxCalls: 5, capacity: 4, refillPerSecond: 1, now: () => Date.now() });
      const started: string[] = [];
      const call = (sub: string, name: string) => pacer.call(sub, () => pacer.send(sub, async () => (started.push(name), answer(200))));
      // A's six calls come first and could fill every call slot, but A can serve only three requests now
      // (four tokens, one kept in reserve).
      const hot = Array.from({ length: 6 }, (_, i) => call(A, `A${i}`));
      const cold = Array.from({ length: 3 }, (_, i) => call(B, `B${i}`));
      await vi.advanceTimersByTimeAsync(1);
      expect(started.filter((s) => s.startsWith("B"))).toHaveLength(3);
      expect(started.filter((s) => s.startsWith("A"))).toHaveLength(3);
      await Promise.all(cold);
      await vi.advanceTimersByTimeAsync(5000);
      await Promise.all(hot);
      expect(started).toHaveLength(9);
    } finally {
      vi.useRealTimers();
    }
  });

  it("reads Retry-After in milliseconds, seconds or as a date", () => {
    expect(retryAfterMs(answer(429, { "retry-after-ms": "250" }))).toBe(250);
    expect(retryAfterMs(answer(429, { "retry-after": "3" }))).toBe(3000);
    expect(retryAfterMs(answer(429, { "retry-after": new Date(Date.now() + 60_000).toUTCString() }))).toBeGreaterThan(50_000);
    expect(retryAfterMs(answer(429))).toBe(1000);
  });
});
