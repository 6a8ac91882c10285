import { describe, expect, it } from "vitest";
import {
  countdownPhrase,
  daysAgo,
  daysFromTo,
  formatNumber,
  inDays,
  isoDay,
  longDate,
  plural,
  shortDate,
  utcTimestamp,
} from "../../../src/render/format.js";

describe("formatNumber", () => {
  it("groups thousands the en-US way whatever the machine's locale", () => {
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(1001)).toBe("1,001");
    expect(formatNumber(1234567)).toBe("1,234,567");
    expect(formatNumber(-2500)).toBe("-2,500");
  });
});

describe("plural", () => {
  it("uses the singular only for exactly one, and adds an s otherwise", () => {
    expect(plural(1, "finding")).toBe("1 finding");
    expect(plural(0, "finding")).toBe("0 findings");
    expect(plural(2, "Batch account")).toBe("2 Batch accounts");
  });

  it("takes an irregular plural and groups large counts", () => {
    expect(plural(1, "item needs", "items need")).toBe("1 item needs");
    expect(plural(1200, "item needs", "items need")).toBe("1,200 items need");
  });
});

describe("dates", () => {
  it("writes a long date as day, month name and year, also for a date-time and a leap day", () => {
    expect(longDate("2024-02-29")).toBe("29 February 2024");
    expect(longDate("2026-01-05T07:00:00Z")).toBe("5 January 2026");
  });

  it("writes a short date as day and abbreviated month", () => {
    expect(shortDate("2024-02-29")).toBe("29 Feb");
    expect(shortDate("2025-12-01")).toBe("1 Dec");
  });

  it("returns anything that is not a date as given rather than guessing", () => {
    expect(longDate("soon")).toBe("soon");
    expect(longDate("2024-13-01")).toBe("2024-13-01");
    expect(shortDate("")).toBe("");
  });

  it("takes the day of a date-time, and an empty day for none", () => {
    expect(isoDay("2026-11-26T23:59:59Z")).toBe("2026-11-26");
    expect(isoDay(undefined)).toBe("");
  });

  it("writes a UTC timestamp to the minute, and anything else as given", () => {
    expect(utcTimestamp("2026-11-26T07:00:42.123Z")).toBe("2026-11-26 07:00 UTC");
    expect(utcTimestamp("yesterday")).toBe("yesterday");
  });

  it("counts whole days between the days of two dates or date-times, and gives no count for a non-date", () => {
    expect(daysFromTo("2026-11-26", "2026-11-29T01:00:00Z")).toBe(3);
    expect(daysFromTo("2026-11-26T23:00:00Z", "2026-11-25")).toBe(-1);
    expect(daysFromTo("2024-02-28", "2024-03-01")).toBe(2);
    expect(daysFromTo("2026-11-26", "not a date")).toBeUndefined();
  });
});

describe("day counts", () => {
  it("says how far a deadline is: overdue with grouping, due today, or days left", () => {
    expect(countdownPhrase(-1001)).toBe("1,001 days overdue");
    expect(countdownPhrase(-1)).toBe("1 day overdue");
    expect(countdownPhrase(0)).toBe("due today");
    expect(countdownPhrase(1)).toBe("1 day left");
    expect(countdownPhrase(14)).toBe("14 days left");
  });

  it("says 'in N days' and 'N days ago' with the right plural", () => {
    expect(inDays(3)).toBe("in 3 days");
    expect(inDays(1)).toBe("in 1 day");
    expect(daysAgo(1)).toBe("1 day ago");
    expect(daysAgo(1001)).toBe("1,001 days ago");
  });
});
