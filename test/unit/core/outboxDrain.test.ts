// The outbox's pace and its ETA: the sliding per-minute and per-hour windows, earlier runs' sends counted, and when
// SEND_SCHEDULE's runs will have sent a backlog.
import { describe, expect, it } from "vitest";
import { parseNcrontab } from "../../../src/core/ncrontab.js";
import { estimateDrain, MAX_SLOT_WAIT_MS, nextSlot, SendPacer } from "../../../src/core/outboxDrain.js";

const at = (iso: string) => Date.parse(iso);
const hourly = parseNcrontab("0 30 * * * *");
const nextRun = (after: Date) => hourly.next(after);

describe("NCRONTAB", () => {
  it("finds the next firing of hourly, daily, stepped and weekday schedules", () => {
    expect(parseNcrontab("0 30 * * * *").next(new Date("2026-11-26T07:30:00Z"))?.toISOString()).toBe("2026-11-26T08:30:00.000Z");
    expect(parseNcrontab("0 0 7 * * *").next(new Date("2026-11-26T07:00:01Z"))?.toISOString()).toBe("2026-11-27T07:00:00.000Z");
    expect(parseNcrontab("0 */15 9-17 * * *").next(new Date("2026-11-26T17:50:00Z"))?.toISOString()).toBe("2026-11-27T09:00:00.000Z");
    // 2026-11-28 is a Saturday: Monday to Friday skips to Monday the 30th.
    expect(parseNcrontab("0 0 8 * * Mon-Fri").next(new Date("2026-11-27T09:00:00Z"))?.toISOString()).toBe("2026-11-30T08:00:00.000Z");
    expect(parseNcrontab("0 0 0 30 2 *").next(new Date("2026-01-01T00:00:00Z"))).toBeUndefined();
  });

  it("says what is wrong with an expression it cannot use", () => {
    expect(() => parseNcrontab("0 * * * *")).toThrow(/six fields/);
    expect(() => parseNcrontab("0 61 * * * *")).toThrow(/minute field "61"/);
    expect(() => parseNcrontab("0 0 5-1 * * *")).toThrow(/runs backwards/);
    expect(() => parseNcrontab("0 */0 * * * *")).toThrow(/step/);
  });
});

describe("the send windows", () => {
  const limits = { perMinute: 30, perHour: 100 };

  it("lets a send through at once while both windows have room", () => {
    expect(nextSlot(at("2026-11-26T08:00:00Z"), [], limits)).toBe(at("2026-11-26T08:00:00Z"));
  });

  it("holds the 31st send of a minute until the first of them is a minute old", () => {
    const sends = Array.from({ length: 30 }, (_, i) => at("2026-11-26T08:00:00Z") + i * 1000);
    expect(nextSlot(at("2026-11-26T08:00:30Z"), sends, limits)).toBe(at("2026-11-26T08:01:00Z"));
  });

  it("counts the sends of an earlier run within the hour: the 101st waits until the first of the hour is an hour old", () => {
    const sends = Array.from({ length: 100 }, (_, i) => at("2026-11-26T07:00:00Z") + i * 2000);
    expect(nextSlot(at("2026-11-26T07:30:00Z"), sends, limits)).toBe(at("2026-11-26T08:00:00Z"));
  });

  it("waits minutes for the hour's window to free a slot, but not most of an hour", async () => {
    let t = at("2026-11-26T08:00:00Z");
    const slept: number[] = [];
    const earlier = Array.from({ length: 100 }, (_, i) => new Date(at("2026-11-26T07:02:00Z") + i * 2000).toISOString());
    const pacer = new SendPacer(limits, earlier, () => new Date(t), async (ms) => void (slept.push(ms), (t += ms)));
    expect(await pacer.admit()).toBe(true);
    expect(t).toBeGreaterThanOrEqual(at("2026-11-26T08:02:00Z"));
    expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_SLOT_WAIT_MS);

    t = at("2026-11-26T07:30:00Z");
    const early = new SendPacer(limits, earlier, () => new Date(t), async () => {
      throw new Error("must not wait half an hour");
    });
    expect(await early.admit()).toBe(false);
  });
});

describe("when every owner will have been told", () => {
  const base = { limits: { perMinute: 30, perHour: 100 }, runMinutes: 25, nextRun };

  it("2,000 owners at 100 an hour: the audit's run and one day's hourly runs tell them all", () => {
    const now = new Date("2026-11-26T07:00:00Z");
    const estimate = estimateDrain({ ...base, messages: 2000, now, recentSends: [], sendingNow: true });
    // 100 at 07:00, none at 07:30 (the window frees at 08:00), then 100 at 08:30, ... 19 more runs, the last at 02:30.
    expect(estimate.runs).toBe(20);
    expect(estimate.eta).toBeDefined();
    expect(Date.parse(estimate.eta ?? "")).toBeGreaterThan(at("2026-11-27T02:30:00Z"));
    expect(Date.parse(estimate.eta ?? "")).toBeLessThan(at("2026-11-27T02:35:00Z"));
  });

  it("is later when the hour is already spent, and absent when the backlog needs more than 60 days", () => {
    const now = new Date("2026-11-26T08:40:00Z");
    const spent = Array.from({ length: 100 }, (_, i) => at("2026-11-26T08:30:00Z") + i * 2000);
    expect(estimateDrain({ ...base, messages: 10, now, recentSends: spent, sendingNow: false }).eta).toMatch(/^2026-11-26T09:3/);
    expect(estimateDrain({ ...base, messages: 100 * 24 * 61, now, recentSends: [], sendingNow: false }).eta).toBeUndefined();
  });

  it("has nothing to estimate for an empty outbox", () => {
    expect(estimateDrain({ ...base, messages: 0, now: new Date("2026-11-26T07:00:00Z"), recentSends: [], sendingNow: true })).toEqual({ runs: 0 });
  });

  it("scales with the quota: at 1,000 an hour the same 2,000 owners are told within three hours", () => {
    const now = new Date("2026-11-26T07:00:00Z");
    const estimate = estimateDrain({ ...base, limits: { perMinute: 100, perHour: 1000 }, messages: 2000, now, recentSends: [], sendingNow: true });
    expect(Date.parse(estimate.eta ?? "")).toBeLessThan(at("2026-11-26T10:00:00Z"));
  });
});
