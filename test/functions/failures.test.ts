// When the app cannot work: a bad configuration fails every invocation loudly (the problems in the log, a 500 that
// names the settings without their secret values), and unreachable storage fails the timer (so its retry policy
// applies) and answers 503 over HTTP. No answer carries a stack trace or a secret.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dailyAudit } from "../../src/functions/dailyAudit.js";
import { getAuditReport } from "../../src/functions/getAuditReport.js";
import { getAuditRun } from "../../src/functions/getAuditRun.js";
import { startAuditRun } from "../../src/functions/startAuditRun.js";
import { configureHost, type HostOptions } from "../../src/app/functionsHost.js";
import { answers, call, invocationContext, LEAKS, SENDER, timer } from "./support/functionsHarness.js";

const SECRET = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LW11c3Qtbm90LWxlYWs=";
const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const hostLogs: string[] = [];
/** Nothing here gets as far as Azure: a placeholder for the simulated ARM and mail endpoints. */
const configure = (env: Record<string, string>, overrides: Partial<HostOptions> = {}) =>
  configureHost({
    env: { SEND_MODE: "live", SENDER_ADDRESS: SENDER, ...env },
    simulator: { url: "https://127.0.0.1:9", ca: "", emailAccessKey: "unused" },
    hostLogSink: (level, message, fields) => hostLogs.push(`host ${level}: ${message} ${JSON.stringify(fields)}`),
    ...overrides,
  });
/** A storage endpoint that refuses everything (403, which the SDK does not retry). */
let refusing: Server;
let refusingUrl = "";

beforeAll(async () => {
  refusing = createServer((_req, res) => {
    res.writeHead(403, { "Content-Type": "application/xml", "x-ms-error-code": "AuthorizationFailure" });
    res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code><Message>This request is not authorized.</Message></Error>');
  });
  await new Promise<void>((r) => refusing.listen(0, "127.0.0.1", () => r()));
  refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/devstoreaccount1`;
});
afterAll(async () => {
  await new Promise((r) => refusing?.close(r));
});

describe("a bad configuration", () => {
  const env: Record<string, string> = {
    SEND_MODE: "sometimes",
    BATCH_CONCURRENCY: "lots",
    COMMUNICATION_SERVICES_CONNECTION_STRING: `accesskey=${SECRET}`,
    APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${SECRET}`,
  };

  it("fails every HTTP route with 500 CONFIG.INVALID naming each setting, not its secret value", async () => {
    configure(env);
    const logs: string[] = [];
    const routes = [
      await call(getAuditReport, "getAuditReport", logs, { path: "/api/audit/report" }),
      await call(getAuditRun, "getAuditRun", logs, { path: "/api/audit/runs/run-2026-01-01T07-00-00Z-abcdef", params: { id: "run-2026-01-01T07-00-00Z-abcdef" } }),
      await call(startAuditRun, "startAuditRun", logs, { method: "POST", path: "/api/audit/runs" }),
    ];
    for (const answer of routes) {
      expect(answer.status).toBe(500);
      const { error } = answer.json<{ error: { code: string; message: string } }>();
      expect(error.code).toBe("CONFIG.INVALID");
      expect(error.message).toMatch(/SEND_MODE: must be one of "dry-run", "redirect", "live"/);
      expect(error.message).toMatch(/BATCH_CONCURRENCY: must be a whole number/);
      expect(error.message).toMatch(/COMMUNICATION_SERVICES_CONNECTION_STRING: must look like endpoint=/);
      expect(answer.text).not.toContain(SECRET);
    }
    // The problems are in the invocation's log too.
    expect(logs.filter((l) => /^\w+ error: configuration is not valid .*SEND_MODE/.test(l))).toHaveLength(3);
    expect(logs.join("\n")).not.toContain(SECRET);
  });

  it("fails the timer loudly, and keeps failing until the host restarts (the configuration is read once)", async () => {
    const logs: string[] = [];
    await expect(dailyAudit(timer(), invocationContext("dailyAudit", logs))).rejects.toMatchObject({ code: "CONFIG.INVALID" });
    expect(logs.some((l) => /^dailyAudit error: configuration is not valid; no audit ran .*BATCH_CONCURRENCY/.test(l))).toBe(true);

    // Fixing the settings object the host read does not change the cached outcome: loadConfig ran once.
    env.SEND_MODE = "dry-run";
    env.BATCH_CONCURRENCY = "4";
    delete env.COMMUNICATION_SERVICES_CONNECTION_STRING;
    await expect(dailyAudit(timer(), invocationContext("dailyAudit", []))).rejects.toMatchObject({ code: "CONFIG.INVALID" });
    expect(hostLogs.filter((l) => l.startsWith("host error: the app cannot start"))).toHaveLength(1);
  });
});

describe("storage that refuses every request", () => {
  beforeAll(() => {
    configure({}, { storageConnectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=${refusingUrl};TableEndpoint=${refusingUrl};` });
  });

  it("fails the timer so that its retry policy runs it again", async () => {
    const logs: string[] = [];
    await expect(dailyAudit(timer(), invocationContext("dailyAudit", logs))).rejects.toThrow(/^Audit run run-[0-9TZ-]+-[0-9a-f]{6} failed: Cannot take the run lock in storage/);
    expect(logs.some((l) => /error: run could not start/.test(l))).toBe(true);
  });

  it("answers 503 with Retry-After over HTTP, without the storage key", async () => {
    const logs: string[] = [];
    const started = await call(startAuditRun, "startAuditRun", logs, { method: "POST", path: "/api/audit/runs" });
    expect(started.status).toBe(503);
    expect(started.headers.get("retry-after")).toBe("10");
    expect(started.json()).toMatchObject({ error: { code: "LEDGER.UNAVAILABLE", message: expect.stringMatching(/storage.*Try again shortly/i) } });

    const reportAnswer = await call(getAuditReport, "getAuditReport", logs, { path: "/api/audit/report" });
    expect(reportAnswer.status).toBe(503);
    expect(reportAnswer.json()).toMatchObject({ error: { code: "LEDGER.UNAVAILABLE" } });
  });

  it("never answers with a stack trace or a secret", () => {
    expect(answers.length).toBeGreaterThanOrEqual(5);
    for (const { request, answer } of answers) {
      for (const leak of LEAKS) expect(`${request} -> ${answer.status}: ${answer.text}`).not.toMatch(leak);
      expect(answer.text).not.toContain(SECRET);
    }
  });
});
