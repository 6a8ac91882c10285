// The HTTP API end to end: real HttpRequest and InvocationContext objects into the exported handlers, with the
// demo tenant in the simulated Azure and Azurite behind them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getHost } from "../../src/app/functionsHost.js";
import type { AuditReport } from "../../src/core/model.js";
import { backgroundRuns } from "../../src/functions/support/backgroundRun.js";
import { getAuditReport } from "../../src/functions/getAuditReport.js";
import { getAuditRun } from "../../src/functions/getAuditRun.js";
import { startAuditRun } from "../../src/functions/startAuditRun.js";
import { REPORT_CSP_HEADER } from "../../src/render/reportHtml.js";
import { answers, BASE_URL, call, LEAKS, startHarness, type Answer, type Harness } from "./support/functionsHarness.js";

const SUB_RESEARCH = "3f2c1a4e-8b7d-4c6a-9e1f-2a3b4c5d6e7f";
let h: Harness;
const logs: string[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await backgroundRuns();
  await h?.close();
});

const post = (query = "", body?: string) => call(startAuditRun, "startAuditRun", logs, { method: "POST", path: `/api/audit/runs${query}`, ...(body !== undefined ? { body } : {}) });
const run = (id: string, query = "") => call(getAuditRun, "getAuditRun", logs, { path: `/api/audit/runs/${encodeURIComponent(id)}${query}`, params: { id } });
const report = (query = "") => call(getAuditReport, "getAuditReport", logs, { path: `/api/audit/report${query}` });

interface RunView {
  runId: string;
  state: string;
  sendMode: string;
  progress: { phase: string };
  counts?: { findings: number; critical: number; warning: number; sent: number; failedScopes: number };
  errors: string[];
  reportUrl?: string;
}

async function waitForRun(id: string): Promise<RunView> {
  for (let i = 0; i < 300; i++) {
    const answer = await run(id);
    expect(answer.status).toBe(200);
    const view = answer.json<RunView>();
    if (view.state !== "running") return view;
    expect(answer.headers.get("retry-after")).toBe("5");
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} did not finish`);
}

const csvRows = (text: string) => text.split("\n").filter((l) => /^[a-z0-9.-]+:\/subscriptions\//.test(l));

describe("the HTTP API", () => {
  it("answers 404 with a clear message while there is no report or no such run", async () => {
    const none = await report();
    expect(none.status).toBe(404);
    expect(none.json()).toEqual({ error: { code: "REPORT.NOT_FOUND", message: expect.stringMatching(/no report yet.*POST \/api\/audit\/runs/i) } });
    const unknown = await run("run-2026-01-01T07-00-00Z-abcdef");
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: "RUN.NOT_FOUND" } });
  });

  it("starts a dry run with 202 and a status URL, reports its progress, then serves the report", async () => {
    const started = await post();
    expect(started.status).toBe(202);
    const body = started.json<{ runId: string; statusUrl: string; alreadyRunning: boolean; sendMode: string }>();
    expect(body.runId).toMatch(/^run-[0-9TZ-]+-[0-9a-f]{6}$/);
    expect(body).toMatchObject({ statusUrl: `${BASE_URL}/api/audit/runs/${body.runId}`, alreadyRunning: false, sendMode: "dry-run" });
    expect(started.headers.get("location")).toBe(body.statusUrl);

    // The status blob exists before the 202: the first poll already finds the run.
    const first = await run(body.runId);
    expect(first.status).toBe(200);
    expect(["running", "succeeded"]).toContain(first.json<RunView>().state);

    const done = await waitForRun(body.runId);
    expect(done).toMatchObject({ state: "succeeded", sendMode: "dry-run", progress: { phase: "done" }, errors: [], reportUrl: `${BASE_URL}/api/audit/report` });
    expect(done.counts).toEqual({ findings: 20, critical: 11, warning: 9, sent: 0, failedScopes: 1 });
    expect(h.sim.email.messages()).toHaveLength(0);

    const json = await report();
    expect(json.status).toBe(200);
    expect(json.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(json.headers.get("cache-control")).toBe("no-store");
    const doc = json.json<AuditReport & { filter: object; filteredCount: number }>();
    expect(doc.run?.runId).toBe(body.runId);
    expect(doc).toMatchObject({ filter: {}, filteredCount: 20, summary: { findings: 20 } });
    expect(doc.findings).toHaveLength(20);
  });

  it("filters the report by severity, subscription and owner in every format", async () => {
    const critical = (await report("?severity=critical")).json<AuditReport & { filter: object; filteredCount: number }>();
    expect(critical.filteredCount).toBe(11);
    expect(critical.findings.every((f) => f.severity === "critical")).toBe(true);
    expect(critical.summary.findings).toBe(20); // the summary stays that of the whole audit
    expect(critical.filter).toEqual({ severity: "critical" });

    const research = (await report(`?subscription=${SUB_RESEARCH.toUpperCase()}`)).json<AuditReport & { filteredCount: number }>();
    expect(research.filteredCount).toBeGreaterThan(0);
    expect(research.findings.every((f) => f.subscriptionId === SUB_RESEARCH)).toBe(true);

    const both = (await report("?owner=Bob.Smith@contoso.com&severity=warning")).json<AuditReport & { filteredCount: number }>();
    expect(both.findings.every((f) => f.severity === "warning" && f.owners?.some((o) => o.address === "bob.smith@contoso.com"))).toBe(true);

    const csv = await report("?format=csv&severity=critical");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toMatch(/^attachment; filename="batch-cert-audit-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(csv.text.split("\n")[0]).toMatch(/^id,kind,rule,deadline,daysLeft,severity,/);
    expect(csvRows(csv.text)).toHaveLength(11);
    expect(csvRows((await report("?format=CSV")).text)).toHaveLength(20);

    const html = await report("?format=html&severity=warning");
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.headers.get("content-security-policy")).toBe(REPORT_CSP_HEADER);
    expect(html.headers.get("x-content-type-options")).toBe("nosniff");
    expect(html.headers.get("cache-control")).toBe("no-store");
    expect(html.text).toMatch(/<title>Batch certificate audit \d{4}-\d{2}-\d{2}: 9 open/);
    expect(html.text).not.toContain("sev-critical\">critical");
  });

  it("filters the report by rule, and refuses a rule id it does not know with the list of rules", async () => {
    const pools = (await report("?rules=pool-certificate-reference")).json<AuditReport & { filter: object; filteredCount: number }>();
    expect(pools.filteredCount).toBeGreaterThan(0);
    expect(pools.findings.every((f) => f.rule === "pool-certificate-reference")).toBe(true);
    expect(pools.filter).toEqual({ rules: "pool-certificate-reference" });
    const csv = await report("?format=csv&rules=Account-Certificate");
    expect(csvRows(csv.text).every((row) => row.includes(",account-certificate,"))).toBe(true);

    const unknown = await report("?rules=windows-2016");
    expect(unknown.status).toBe(400);
    const { error } = unknown.json<{ error: { code: string; message: string; parameter: string; allowed: string[] } }>();
    expect(error).toMatchObject({ code: "REQUEST.INVALID_PARAMETER", parameter: "rules" });
    expect(error.message).toMatch(/Unknown rule "windows-2016"; the rules are: account-certificate, .*windows-server-2016-image/);
    expect(error.allowed).toContain("ubuntu-22.04-node-agent");
  });

  it("serves a pool finding's replacement body and steps as downloads, and 404 for a pool the report does not hold", async () => {
    const latest = (await report()).json<AuditReport>();
    const pool = latest.findings.find((f) => f.migration?.replacementPool);
    expect(pool).toBeDefined();
    const body = await report(`?migration=${encodeURIComponent(pool!.id)}`);
    expect(body.status).toBe(200);
    expect(body.headers.get("content-disposition")).toBe(`attachment; filename="${pool!.migration!.fileName}"`);
    expect(JSON.parse(body.text)).toEqual(pool!.migration!.replacementPool);
    const steps = await report(`?migration=${encodeURIComponent(pool!.resourceId)}&file=sh`);
    expect(steps.status).toBe(200);
    expect(steps.text).toContain("az rest --method put");
    expect((await report(`?migration=${encodeURIComponent(`${pool!.resourceId}-gone`)}`)).status).toBe(404);
  });

  it("starts one run for two concurrent requests: both 202, the same run, one marked alreadyRunning", async () => {
    const [a, b] = await Promise.all([post(), post()]);
    expect([a?.status, b?.status]).toEqual([202, 202]);
    const bodies = [a, b].map((x) => (x as Answer).json<{ runId: string; alreadyRunning: boolean; statusUrl: string }>());
    expect(bodies[0]?.runId).toBe(bodies[1]?.runId);
    expect(bodies.map((x) => x.alreadyRunning).sort()).toEqual([false, true]);
    // While it runs, another request is pointed at it too.
    const third = await post();
    if (third.json<{ alreadyRunning: boolean }>().alreadyRunning) expect(third.json()).toMatchObject({ runId: bodies[0]?.runId, statusUrl: bodies[0]?.statusUrl });
    await backgroundRuns();
    expect((await waitForRun(bodies[0]?.runId ?? "")).state).toBe("succeeded");
  });

  it("sends with send=true when SEND_MODE allows it", async () => {
    const started = await post("", JSON.stringify({ send: true }));
    expect(started.status).toBe(202);
    expect(started.json()).toMatchObject({ sendMode: "live" });
    await backgroundRuns();
    const done = await waitForRun(started.json<{ runId: string }>().runId);
    expect(done.counts?.sent).toBe(8);
    expect(h.sim.email.messages()).toHaveLength(8);
  });

  it.each([
    ["format", "?format=xml", /"format".*one of json, csv, html/],
    ["severity", "?severity=high", /"severity".*one of critical, warning/],
    ["subscription", "?subscription=not-a-guid", /"subscription".*subscription id \(GUID\)/],
    ["owner", "?owner=nobody", /"owner".*email address/],
    ["an unknown parameter", "?sort=asc", /Unknown query parameter "sort"\. Allowed parameters: format \(one of json, csv, html\), subscription/],
    ["a repeated parameter", "?format=json&format=csv", /"format" is given more than once.*json, csv, html/],
    ["an oversized value", `?owner=${"a".repeat(195)}@x.com`, /"owner" is too long \(at most 200 characters\).*email address/],
  ])("GET report: a bad %s answers 400 naming it and what it allows", async (_what, query, message) => {
    const answer = await report(query);
    expect(answer.status).toBe(400);
    const { error } = answer.json<{ error: { code: string; message: string; parameter: string } }>();
    expect(error.code).toMatch(/^REQUEST\./);
    expect(error.message).toMatch(message);
  });

  it.each([
    ["not a run id", "latest", /Path parameter "id" must be a run id such as run-2026-11-26T07-00-00Z-1a2b3c \(got "latest"\)/],
    ["a path trick", "../../latest/report.json", /"id" must be a run id/],
    ["too long", `run-${"1".repeat(250)}-abcdef`, /"id" is too long/],
  ])("GET runs/{id}: an id that is %s answers 400", async (_what, id, message) => {
    const answer = await run(id);
    expect(answer.status).toBe(400);
    expect(answer.json<{ error: { message: string } }>().error.message).toMatch(message);
  });

  it("GET runs/{id} takes no query parameters", async () => {
    const answer = await run("run-2026-01-01T07-00-00Z-abcdef", "?verbose=1");
    expect(answer.status).toBe(400);
    expect(answer.json<{ error: { message: string } }>().error.message).toMatch(/Unknown query parameter "verbose"/);
  });

  it.each([
    ["send in the query", "?send=maybe", undefined, /"send" must be one of true, false/],
    ["an unknown query parameter", "?dryRun=true", undefined, /Unknown query parameter "dryRun"\. Allowed parameters: send/],
    ["a body that is not JSON", "", "send=true", /body must be empty or a JSON object/],
    ["a JSON array body", "", "[true]", /body must be empty or a JSON object/],
    ["send in the body", "", '{"send":1}', /Body field "send" must be true or false/],
    ["an unknown body field", "", '{"send":true,"scope":"x"}', /Unknown body field "scope"/],
    ["an oversized body", "", JSON.stringify({ send: "x".repeat(2000) }), /body is too long/],
    ["conflicting values", "?send=true", '{"send":false}', /"send" is given in the query and the body with different values/],
  ])("POST runs: %s answers 400", async (_what, query, body, message) => {
    const answer = await post(query, body);
    expect(answer.status).toBe(400);
    expect(answer.json<{ error: { message: string } }>().error.message).toMatch(message);
  });

  it("accepts the function key the host passes on as ?code= and never echoes it", async () => {
    const answer = await report("?code=s3cr3t-function-key&severity=critical");
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain("s3cr3t-function-key");
  });

  it("reports a run whose process ended mid-way (status running, lock not held) as abandoned", async () => {
    const runId = "run-2026-01-02T07-00-00Z-0dead0";
    await getHost().composition.reports.saveStatus({
      runId,
      state: "running",
      trigger: "http",
      sendMode: "dry-run",
      startedAt: "2026-01-02T07:00:00.000Z",
      progress: { phase: "accounts", done: 3, total: 10 },
      errors: [],
    });
    const answer = await run(runId);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("retry-after")).toBeNull();
    expect(answer.json()).toMatchObject({ runId, state: "failed", abandoned: true, errors: [expect.stringMatching(/stopped without finishing.*Start a new run/)] });
  });

  it("refuses send=true with 409 when SEND_MODE is dry-run", async () => {
    h.configure({ SEND_MODE: "dry-run" });
    const answer = await post("?send=true");
    expect(answer.status).toBe(409);
    expect(answer.json()).toEqual({
      error: { code: "SEND.NOT_ALLOWED", message: expect.stringMatching(/SEND_MODE is "redirect" or "live"; it is "dry-run"/), parameter: "send", allowed: expect.any(String) },
    });
    expect((await post("?send=false")).status).toBe(202);
    await backgroundRuns();
  });

  it("never answers with a stack trace or a secret", () => {
    expect(answers.length).toBeGreaterThan(30);
    for (const { request, answer } of answers) {
      for (const leak of LEAKS) expect(`${request} -> ${answer.status}: ${answer.text}`).not.toMatch(leak);
      for (const [name, value] of answer.headers) expect(`${name}: ${value}`).not.toMatch(/AccountKey|accesskey|Eby8vdM02/i);
    }
  });
});
