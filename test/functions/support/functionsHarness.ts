// The Functions app's handlers end to end without the Functions host: real HttpRequest, InvocationContext and
// Timer objects from @azure/functions, the simulated Azure with the demo tenant, and an in-memory Azurite.
import { randomBytes, randomUUID } from "node:crypto";
import { HttpRequest, HttpResponse, InvocationContext, type HttpHandler, type HttpResponseInit, type Timer } from "@azure/functions";
import { configureHost, type HostOptions } from "../../../src/app/functionsHost.js";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { startSimulator, type SimulatedAzure } from "@batch-cert-auditor/simulated-azure";
import { demoTenant } from "../../support/simulatedAzure.js";

export const SENDER = "DoNotReply@batch-cert-auditor.example";
export const BASE_URL = "https://func-audit.example.net";

export interface Harness {
  sim: SimulatedAzure;
  storage: LocalStorage;
  /** Every log line: invocation contexts and the host log. */
  logs: string[];
  /** Re-points the host (drops its cached configuration), e.g. to another SEND_MODE. */
  configure(env?: Record<string, string>, overrides?: Partial<HostOptions>): void;
  close(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const emailAccessKey = randomBytes(32).toString("base64");
  const snapshot = demoTenant();
  const [sim, storage] = await Promise.all([startSimulator({ snapshot, email: { accessKey: emailAccessKey } }), startAzurite()]);
  const logs: string[] = [];
  const configure = (more: Record<string, string> = env, overrides: Partial<HostOptions> = {}) =>
    configureHost({
      env: { SEND_MODE: "live", SENDER_ADDRESS: SENDER, ...more },
      simulator: { url: sim.url, ca: sim.ca, emailAccessKey },
      storageConnectionString: storage.connectionString,
      tenantId: snapshot.tenantId,
      hostLogSink: (level, message, fields) => logs.push(`host ${level}: ${message} ${JSON.stringify(fields)}`),
      ...overrides,
    });
  configure(env);
  return { sim, storage, logs, configure, close: async () => void (await Promise.all([sim.close(), storage.stop()])) };
}

export function invocationContext(functionName: string, logs: string[]): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName,
    logHandler: (level, ...args) => logs.push(`${functionName} ${level}: ${args.map(String).join(" ")}`),
  });
}

export function timer(isPastDue = false): Timer {
  const now = new Date().toISOString();
  return { isPastDue, schedule: { adjustForDST: true }, scheduleStatus: { last: now, next: now, lastUpdated: now } };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Every answer the handlers gave in this test file, for the check that none leaks a secret or a stack. */
export const answers: { request: string; answer: Answer }[] = [];

export async function call(
  handler: HttpHandler,
  functionName: string,
  logs: string[],
  request: { method?: string; path: string; params?: Record<string, string>; body?: string; headers?: Record<string, string> },
): Promise<Answer> {
  const method = request.method ?? "GET";
  const req = new HttpRequest({
    method,
    url: `${BASE_URL}${request.path}`,
    headers: request.headers ?? {},
    params: request.params ?? {},
    ...(request.body !== undefined ? { body: { string: request.body } } : {}),
  });
  const result = (await handler(req, invocationContext(functionName, logs))) as HttpResponseInit | HttpResponse;
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  const text = await response.text();
  const answer: Answer = { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
  answers.push({ request: `${method} ${request.path}`, answer });
  return answer;
}

/** What must never be in an answer: key material (the Azurite key included) or stack traces. */
export const LEAKS: RegExp[] = [/AccountKey/i, /accesskey/i, /Eby8vdM02/, /^\s+at\s/m, /\((?:file:\/\/|node:|\/)[^)]*:\d+:\d+\)/, /\b\w*Error: /];
