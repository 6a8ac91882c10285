// The report's formats are written while they are made: joined, the pieces must be exactly the one-shot text, and a
// large report must come in many pieces (never one string of the whole file).
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, reportCsvChunks, reportToCsv } from "../../../src/report/reportCsv.js";
import { PIECE_CHARS, coalesce, gzipBlocks, jsonChunks } from "../../../src/report/textChunks.js";
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
    // V8's largest object outside the large-object space is 128 KiB; a string's header takes 16 bytes of it.
    const youngLimitBytes = 128 * 1024 - 16;
    const pieces = Array.from({ length: 5_000 }, (_, i) => `{"finding":${i},"detail":"${"é".repeat(i % 700)}"},`);
    const joined = [...coalesce(pieces)];
    expect(joined.join("")).toBe(pieces.join(""));
    expect(PIECE_CHARS * 2).toBeLessThan(youngLimitBytes);
    // The joins come near the size (so the bound above is what holds them), never past it.
    const longest = Math.max(...joined.map((p) => p.length));
    expect(longest).toBeGreaterThan(PIECE_CHARS - 800);
    expect(longest).toBeLessThanOrEqual(PIECE_CHARS);
    expect(joined.length).toBeLessThan(pieces.length / 20);
  });
});

describe("gzipBlocks", () => {
  /** Text that compresses little (so that it makes many blocks), with characters of every UTF-8 length. */
  function* text(pieces: number, finished?: { closed: boolean }, failAt?: number): Generator<string> {
    try {
      let seed = 7;
      for (let i = 0; i < pieces; i++) {
        if (i === failAt) throw new Error("the renderer broke half way");
        let piece = `${i}:`;
        for (let j = 0; j < 200; j++) {
          seed = (seed * 48271) % 2147483647;
          piece += String.fromCodePoint([0x41, 0xe9, 0x20ac, 0x1f600][seed % 4] as number + (seed % 26));
        }
        // Now and then a piece longer than PIECE_CHARS, which is encoded on its own.
        yield i % 97 === 96 ? piece.repeat(Math.ceil((PIECE_CHARS + 1) / piece.length)) : piece;
      }
    } finally {
      if (finished) finished.closed = true;
    }
  }

  it("gzips the text into full blocks, the last shorter, each handed over intact until its take answers", async () => {
    const blocks: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let taking = 0;
    let mostAtOnce = 0;
    const taken = await gzipBlocks(text(3_000), 4096, async (block) => {
      const copy = Buffer.from(block);
      buffers.add(block.buffer);
      mostAtOnce = Math.max(mostAtOnce, ++taking);
      await new Promise((resolve) => setTimeout(resolve, 1));
      // Not reused before its take answered.
      expect(block.equals(copy)).toBe(true);
      taking--;
      blocks.push(copy);
    });
    expect(taken).toBe(blocks.length);
    expect(blocks.length).toBeGreaterThan(50);
    expect(blocks.slice(0, -1).every((b) => b.length === 4096)).toBe(true);
    expect(gunzipSync(Buffer.concat(blocks)).toString("utf8")).toBe([...text(3_000)].join(""));
    expect(mostAtOnce).toBe(2);
    // Two blocks' buffers, reused, for all of them (one is filled while the other is taken).
    expect(buffers.size).toBe(2);
  });

  it("makes one block of an empty text, a gzip member of nothing, and refuses blocks of no bytes", async () => {
    const blocks: Buffer[] = [];
    expect(await gzipBlocks([], 1024, async (block) => blocks.push(Buffer.from(block)))).toBe(1);
    expect(gunzipSync(Buffer.concat(blocks)).toString("utf8")).toBe("");
    await expect(gzipBlocks(["text"], 0, async () => undefined)).rejects.toThrow(RangeError);
  });

  it("throws the text's own error as it is", async () => {
    const failing = gzipBlocks(text(3_000, undefined, 1_500), 4096, async () => undefined);
    await expect(failing).rejects.toThrow("the renderer broke half way");
  });

  it("a take that fails ends it: that error is thrown once the blocks being taken settled, the text made no further and closed", async () => {
    const finished = { closed: false };
    let made = 0;
    const counted = function* () {
      for (const piece of text(3_000, finished)) {
        made++;
        yield piece;
      }
    };
    let takes = 0;
    let settled = 0;
    const failing = gzipBlocks(counted(), 4096, async () => {
      const take = ++takes;
      try {
        // The second block is still being taken when the third fails.
        if (take === 2) await new Promise((resolve) => setTimeout(resolve, 50));
        if (take === 3) throw new Error("the service is busy");
      } finally {
        settled++;
      }
    });
    await expect(failing).rejects.toThrow("the service is busy");
    expect(settled).toBe(takes);
    expect(finished.closed).toBe(true);
    expect(made).toBeLessThan(3_000);
  });

  it("a take that fails while the compressor waits for room ends it too (the held write is woken)", async () => {
    const finished = { closed: false };
    // The first block's take answers late, so the compressor's output piles up and its writes are held back.
    const failing = gzipBlocks(text(3_000, finished), 4096, async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error("the service is busy");
    });
    await expect(failing).rejects.toThrow("the service is busy");
    expect(finished.closed).toBe(true);
  });
});

describe("report formats in pieces", () => {
  it("the CSV is the one-shot CSV, 50 rows a piece after the header", () => {
    const report = bigReport(1_201);
    const pieces = [...reportCsvChunks(report)];
    expect(pieces.join("")).toBe(reportToCsv(report));
    expect(pieces).toHaveLength(1 + 25);
  });

  it("the CSV names where each finding's account's pool references came from, its id matched in any case", () => {
    const report = sampleReport();
    const [first, second, third] = report.findings;
    if (!first || !second || !third) throw new Error("the sample report has too few findings");
    const base = "/subscriptions/0000/resourceGroups/RG/providers/Microsoft.Batch/batchAccounts";
    const row = (id: string, pools: "batch-api" | "resource-graph" | "failed") => ({ id, name: id.split("/").pop() ?? "", subscriptionId: "0000", status: "audited" as const, certificates: 0, pools });
    const simple = (f: typeof first, accountId: string) => ({ ...f, accountId, detail: "d", sourceNote: undefined, ownerProblems: undefined });
    const findings = [simple(first, `${base}/Upper`), simple(second, `${base}/twice`), simple(third, `${base}/unlisted`)];
    const accounts = [row(`${base}/upper`.toUpperCase(), "batch-api"), row(`${base}/twice`, "failed"), row(`${base}/TWICE`, "resource-graph"), row(`${base}/other`, "failed")];
    const csv = reportToCsv({ ...report, findings, coverage: { ...report.coverage, accounts } });
    const lines = csv.trimEnd().split(/\r?\n/).slice(1);
    // Plain rows (no quoted cells), so each splits on its commas.
    expect(lines.every((l) => !l.includes('"'))).toBe(true);
    const column = CSV_COLUMNS.indexOf("accountPools");
    // The account listed once whatever its case; the last of two rows of one account (as before); none for an account
    // the coverage does not list.
    expect(lines.map((l) => l.split(",")[column])).toEqual(["batch-api", "resource-graph", ""]);
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
