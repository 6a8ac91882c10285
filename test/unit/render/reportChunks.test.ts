// The report's formats are written while they are made: joined, the pieces must be exactly the one-shot text, and a
// large report must come in many pieces (never one string of the whole file).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reportCsvChunks, reportToCsv } from "../../../src/report/reportCsv.js";
import { coalesce, jsonChunks } from "../../../src/report/textChunks.js";
import { renderReportHtml, reportHtmlChunks } from "../../../src/render/reportHtml.js";
import { sampleExtras, sampleReport } from "../../support/sampleReport.js";

function bigReport(count: number) {
  const report = sampleReport();
  const findings = Array.from({ length: count }, (_, i) => {
    const f = report.findings[i % report.findings.length];
    if (!f) throw new Error("the sample report has no findings");
    return { ...f, id: `${f.id}-${i}` };
  });
  return { ...report, findings };
}

describe("jsonChunks", () => {
  it("joins to JSON.stringify(value, null, 2) for any JSON-like value, at every split depth", () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom(null, undefined, true, false, 0, -1.5, "", "a\nb \"q\" </script> \u2028"),
        fc.string(),
        fc.double({ noNaN: false }),
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie("node"), { maxKeys: 4 }),
        fc.date({ noInvalidDate: true }),
      ),
    })).node;
    fc.assert(
      // A report is an object: a top-level undefined (which JSON.stringify answers with no text at all) does not arise.
      fc.property(value.filter((v) => v !== undefined), fc.integer({ min: 0, max: 4 }), (v, depth) => {
        expect([...jsonChunks(v, depth)].join("")).toBe(JSON.stringify(v, null, 2));
      }),
    );
  });

  it("gives a large report's findings in pieces of a few tens of kilobytes, never the whole list at once", () => {
    const report = bigReport(3_000);
    const whole = JSON.stringify(report, null, 2);
    const pieces = [...jsonChunks(report)];
    expect(pieces.join("")).toBe(whole);
    expect(whole.length).toBeGreaterThan(1_000_000);
    const largest = Math.max(...pieces.map((p) => p.length));
    // One slice of findings is about 32 KB (the first is one finding long, and sets the size of the next).
    expect(largest).toBeLessThan(80 * 1024);
    // Not one piece per finding either: several findings to a piece.
    expect(pieces.length).toBeLessThan(report.findings.length / 4);
  });
});

describe("coalesce", () => {
  it("keeps the text and joins small pieces up to the size, never past it", () => {
    const pieces = Array.from({ length: 100 }, (_, i) => `piece ${i};`);
    const joined = [...coalesce(pieces, 100)];
    expect(joined.join("")).toBe(pieces.join(""));
    expect(joined.length).toBeLessThan(20);
    expect(joined.every((p) => p.length <= 100)).toBe(true);
    // Each piece but the last is as full as the next piece lets it be.
    expect(joined.slice(0, -1).every((p) => p.length > 100 - "piece 99;".length)).toBe(true);
  });

  it("passes a piece longer than the size on alone, between the joined ones", () => {
    const long = "x".repeat(250);
    const joined = [...coalesce(["ab", "cd", long, "ef", ""], 100)];
    expect(joined).toEqual(["abcd", long, "ef"]);
  });

  it("by default keeps every piece it joins below V8's young-generation object size (two bytes a character)", () => {
    const pieces = Array.from({ length: 5_000 }, (_, i) => `{"finding":${i},"detail":"${"é".repeat(i % 700)}"},`);
    const joined = [...coalesce(pieces)];
    expect(joined.join("")).toBe(pieces.join(""));
    expect(Math.max(...joined.map((p) => p.length * 2))).toBeLessThanOrEqual(128 * 1024);
    expect(joined.length).toBeLessThan(pieces.length / 20);
  });
});

describe("report formats in pieces", () => {
  it("the CSV is the one-shot CSV, 50 rows a piece after the header", () => {
    const report = bigReport(1_201);
    const pieces = [...reportCsvChunks(report)];
    expect(pieces.join("")).toBe(reportToCsv(report));
    expect(pieces).toHaveLength(1 + 25);
  });

  it("the HTML page is the one-shot page, with a piece per finding row and per row of its data", () => {
    const report = bigReport(300);
    const pieces = [...reportHtmlChunks(report, sampleExtras())];
    expect(pieces.join("")).toBe(renderReportHtml(report, sampleExtras()));
    expect(pieces.filter((p) => p.includes("<tr data-row="))).toHaveLength(300);
    expect(pieces.every((p) => (p.match(/<tr data-row=/g) ?? []).length <= 1)).toBe(true);
    const page = pieces.join("");
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(page.length / 20);
  });
});
