// GET /api/audit/report without a filter serves the csv and html the run stored beside report.json (no JSON parse,
// no render), and only ever the files of the run latest/report.json is: a file rewritten after "latest" moved, a
// run whose save failed, or an older run's "latest" without the names of its files is rendered from the JSON.
// The route's handler over Azurite, as the Functions host calls it.
import { randomBytes } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, describe, expect, it } from "vitest";
import { configureHost, getHost } from "../../src/app/functionsHost.js";
import { REPORT_FORMAT_VERSIONS, reportFormats } from "../../src/app/runAuditJob.js";
import type { BlobReportStore } from "../../src/azure/blobReportStore.js";
import type { AuditReport } from "../../src/core/model.js";
import { getAuditReport } from "../../src/functions/getAuditReport.js";
import { REPORT_CSP_HEADER, renderReportHtml } from "../../src/render/reportHtml.js";
import { reportToCsv } from "../../src/report/reportCsv.js";
import { jsonChunks } from "../../src/report/textChunks.js";
import { call, type Answer } from "../functions/support/functionsHarness.js";
import { sharedAzurite } from "../support/auditRuns.js";
import { sampleExtras, sampleReport } from "../support/sampleReport.js";

const storage = sharedAzurite();
const logs: string[] = [];
afterAll(() => configureHost({}));

/** A host over its own container in the shared Azurite: its report store, and the container to tamper with. */
function host() {
  const container = `reports-${randomBytes(5).toString("hex")}`;
  configureHost({ env: { SEND_MODE: "dry-run", REPORT_CONTAINER: container }, storageConnectionString: storage.connectionString, hostLogSink: () => undefined });
  const reports: BlobReportStore = getHost().composition.reports;
  return { reports, blobs: BlobServiceClient.fromConnectionString(storage.connectionString).getContainerClient(container) };
}

const get = (query = "") => call(getAuditReport, "getAuditReport", logs, { path: `/api/audit/report${query}` });

/** The sample report as a run stores it: with its run section (history, resolved findings, reminders). */
function runReport(runId: string, asOf = "2026-11-26"): AuditReport {
  const extras = sampleExtras();
  return {
    ...sampleReport(),
    asOf,
    run: {
      runId,
      trigger: "timer",
      sendMode: "dry-run",
      history: extras.history,
      resolvedSinceLastRun: extras.resolvedSinceLastRun,
      reminders: { planned: 0, sent: 0, alreadySent: 0, deferred: 0, failed: [], refused: [], awaiting: 0, futureDated: 0, recovered: { sent: 0, failed: 0, abandoned: 0, unknown: 0 }, messages: [] },
    },
  };
}

/** What the route renders from the stored JSON (today's path): the report as it reads back, unfiltered. */
function rendered(report: AuditReport) {
  const stored = JSON.parse(JSON.stringify(report)) as AuditReport;
  const extras = { history: stored.run?.history ?? [], resolvedSinceLastRun: stored.run?.resolvedSinceLastRun ?? [], ...(stored.run ? { runId: stored.run.runId } : {}) };
  return { csv: reportToCsv(stored), html: renderReportHtml(stored, extras) };
}

/** Files that no renderer makes, as this build's: an answer with them came from the stored file. */
const marked = (label: string) => ({ csv: () => [`stored csv of ${label}\n`], html: () => [`<p>stored page of ${label}</p>`], versions: REPORT_FORMAT_VERSIONS });

const failingJson = () => ({
  *json(): Generator<string> {
    yield "{";
    throw new Error("the run broke while writing its JSON");
  },
});

const headersOf = (answer: Answer) => Object.fromEntries([...answer.headers.entries()].filter(([name]) => name !== "content-length"));

describe("GET /api/audit/report without a filter: the run's stored csv and html", () => {
  it("answers 404 before any run, as before", async () => {
    host();
    for (const format of ["csv", "html"]) expect((await get(`?format=${format}`)).json()).toMatchObject({ error: { code: "REPORT.NOT_FOUND" } });
  });

  it("serves what the run stored, byte for byte and header for header what the route renders from the JSON", async () => {
    const { reports, blobs } = host();
    const report = runReport("run-2026-11-26T06-00-00Z-aaaaaa");
    await reports.saveReport("run-2026-11-26T06-00-00Z-aaaaaa", report, reportFormats(report));
    const fast = { csv: await get("?format=csv"), html: await get("?format=html") };
    // The same request rendered from the JSON: the run's files gone, the route falls back to today's path.
    await blobs.getBlockBlobClient("runs/run-2026-11-26T06-00-00Z-aaaaaa/report.csv").delete();
    await blobs.getBlockBlobClient("runs/run-2026-11-26T06-00-00Z-aaaaaa/report.html").delete();
    const slow = { csv: await get("?format=csv"), html: await get("?format=html") };

    expect(fast.csv.text).toBe(rendered(report).csv);
    expect(fast.html.text).toBe(rendered(report).html);
    expect(fast.csv.text).toBe(slow.csv.text);
    expect(fast.html.text).toBe(slow.html.text);
    expect(headersOf(fast.csv)).toEqual(headersOf(slow.csv));
    expect(headersOf(fast.html)).toEqual(headersOf(slow.html));
    expect(fast.csv.headers.get("content-disposition")).toBe('attachment; filename="batch-cert-audit-2026-11-26.csv"');
    expect(fast.html.headers.get("content-security-policy")).toBe(REPORT_CSP_HEADER);
  });

  it("takes the stored file only without a filter; JSON keeps its filter and filteredCount", async () => {
    const { reports } = host();
    const report = runReport("run-1");
    await reports.saveReport("run-1", report, marked("run-1"));
    const csv = await get("?format=csv");
    expect(csv.text).toBe("stored csv of run-1\n");
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="batch-cert-audit-2026-11-26.csv"');
    const html = await get("?format=HTML");
    expect(html.text).toBe("<p>stored page of run-1</p>");
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.headers.get("content-security-policy")).toBe(REPORT_CSP_HEADER);
    expect(html.headers.get("referrer-policy")).toBe("no-referrer");

    // Any filter renders from the JSON.
    const critical = (await get("?format=csv&severity=critical")).text;
    expect(critical).not.toContain("stored csv");
    expect(critical.split("\n")[0]).toMatch(/^id,kind,rule,deadline,daysLeft,severity,/);
    expect((await get("?format=html&owner=alice.jones@contoso.com")).text).toMatch(/^<!doctype html>/);
    const doc = (await get()).json<AuditReport & { filter: object; filteredCount: number }>();
    expect(doc).toMatchObject({ filter: {}, filteredCount: report.findings.length, asOf: "2026-11-26" });
    expect(doc.run?.runId).toBe("run-1");
  });

  it("never serves a file that is not of the run latest/report.json is", async () => {
    const { reports } = host();
    const first = runReport("run-1", "2026-11-26");
    await reports.saveReport("run-1", first, marked("run-1"));

    // A new run whose JSON fails: "latest" stays, and so do the files served.
    const second = runReport("run-2", "2026-11-27");
    await expect(reports.saveReport("run-2", second, { ...marked("run-2"), ...failingJson() })).rejects.toThrow("broke");
    expect((await get("?format=csv")).text).toBe("stored csv of run-1\n");
    expect((await get("?format=html")).text).toBe("<p>stored page of run-1</p>");

    // The same run saved again, failing after its csv and html were rewritten: "latest" is still the first save, whose
    // files are gone; the answer is rendered from that JSON, not the rewritten files.
    const retried = runReport("run-1", "2026-11-28");
    await expect(reports.saveReport("run-1", retried, { ...marked("the retry"), ...failingJson() })).rejects.toThrow("broke");
    const csv = await get("?format=csv");
    expect(csv.text).toBe(rendered(first).csv);
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="batch-cert-audit-2026-11-26.csv"');
    expect((await get("?format=html")).text).toBe(rendered(first).html);

    // A run that lands moves "latest" and the files with it.
    await reports.saveReport("run-3", runReport("run-3", "2026-11-29"), marked("run-3"));
    expect((await get("?format=csv")).text).toBe("stored csv of run-3\n");
    expect((await get("?format=csv")).headers.get("content-disposition")).toBe('attachment; filename="batch-cert-audit-2026-11-29.csv"');
    expect((await get("?format=html")).text).toBe("<p>stored page of run-3</p>");

    // A run that stored no html: its page is rendered, its csv served.
    const fourth = runReport("run-4", "2026-11-30");
    await reports.saveReport("run-4", fourth, { csv: marked("run-4").csv, versions: REPORT_FORMAT_VERSIONS });
    expect((await get("?format=csv")).text).toBe("stored csv of run-4\n");
    expect((await get("?format=html")).text).toBe(rendered(fourth).html);
  });

  it("renders from the JSON when the run's files were made by another build (another page CSP, other csv columns)", async () => {
    const { reports } = host();
    const report = runReport("run-1");
    await reports.saveReport("run-1", report, { ...marked("an earlier build"), versions: { csv: "0123456789abcdef", html: "0123456789abcdef" } });
    expect((await get("?format=csv")).text).toBe(rendered(report).csv);
    expect((await get("?format=html")).text).toBe(rendered(report).html);
    // Without versions at all (a build before they were recorded): the same.
    await reports.saveReport("run-2", runReport("run-2"), { csv: marked("x").csv, html: marked("x").html });
    expect((await get("?format=csv")).text).not.toContain("stored csv");
  });

  it("renders from the JSON when latest/report.json comes from a build that did not name the run's files", async () => {
    const { blobs } = host();
    const report = runReport("run-old");
    await blobs.createIfNotExists();
    // What earlier builds wrote: the run's files, and "latest" without metadata.
    for (const [name, body] of [
      ["runs/run-old/report.csv", "stored csv of run-old\n"],
      ["runs/run-old/report.html", "<p>stored page of run-old</p>"],
      ["latest/report.json", [...jsonChunks(report)].join("")],
    ] as const) {
      await blobs.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
    }
    expect((await get("?format=csv")).text).toBe(rendered(report).csv);
    expect((await get("?format=html")).text).toBe(rendered(report).html);
  });
});
