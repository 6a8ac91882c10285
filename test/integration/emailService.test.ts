// The Communication Email adapter, with the real EmailClient, against the simulated service over HTTPS.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AcsEmailSender, COMMUNICATION_SCOPE, type AcsEmailSenderOptions } from "../../src/azure/acsEmailSender.js";
import { SimulatorCredential } from "../../src/azure/credentials.js";
import { AuditError } from "../../src/core/errors.js";
import type { OutgoingEmail } from "../../src/core/ports.js";
import type { EmailServiceOptions } from "@batch-cert-auditor/simulated-azure";
import { startSimulator, type SimulatedAzure } from "@batch-cert-auditor/simulated-azure";
import type { SnapshotFault } from "@batch-cert-auditor/simulated-azure";

const KEY = randomBytes(32).toString("base64");
const SENDER = "DoNotReply@contoso.test";
const FAST = { retry: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 } } as const;

let outDir: string;
const sims: SimulatedAzure[] = [];

beforeEach(async () => {
  outDir = await mkdtemp(join(tmpdir(), "email-sim-"));
});

afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
  await rm(outDir, { recursive: true, force: true });
});

async function start(email: EmailServiceOptions = {}, faults: SnapshotFault[] = []): Promise<SimulatedAzure> {
  const sim = await startSimulator({
    snapshot: { tenantId: "t", subscriptions: [], resources: [], faults },
    email: { outDir, accessKey: KEY, ...email },
  });
  sims.push(sim);
  return sim;
}

function keySender(sim: SimulatedAzure, key = KEY, options: Partial<AcsEmailSenderOptions> = {}): AcsEmailSender {
  return AcsEmailSender.fromConnectionString(`endpoint=${sim.url}/;accesskey=${key}`, SENDER, { ca: sim.ca, ...FAST, ...options });
}

function message(to: string, overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    operationId: randomUUID(),
    to,
    subject: "Batch certificates to migrate",
    html: "<html><body><p>Two pools still reference certificates.</p></body></html>",
    text: "Two pools still reference certificates.",
    ...overrides,
  };
}

async function sendError(promise: Promise<unknown>): Promise<AuditError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuditError);
  return error as AuditError;
}

/** A raw call with a bearer token, for what the adapter never sends (bad bodies) or hides (headers). */
function rawRequest(sim: SimulatedAzure, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(new URL(path, sim.url), { method, ca: sim.ca, headers: { authorization: "Bearer test", "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw ? JSON.parse(raw) : undefined });
      });
    });
    req.on("error", reject);
    req.end(text);
  });
}

describe("ACS email sender against the simulated Communication Email service", () => {
  it("sends one message and writes it, its preview and the operation to outDir/emails", async () => {
    const sim = await start();
    const email = message("owner@contoso.test");

    await expect(keySender(sim).send(email)).resolves.toEqual({ status: "Accepted" });

    const dir = join(outDir, "emails");
    const stored = JSON.parse(await readFile(join(dir, `${email.operationId}.json`), "utf8")) as Record<string, unknown>;
    expect(stored).toMatchObject({
      senderAddress: SENDER,
      recipients: { to: [{ address: "owner@contoso.test" }] },
      content: { subject: email.subject, html: email.html, plainText: email.text },
    });
    expect(await readFile(join(dir, `${email.operationId}.html`), "utf8")).toBe(email.html);
    const operations = JSON.parse(await readFile(join(dir, "operations.json"), "utf8")) as { operations: Record<string, { status: string; to: string[] }> };
    expect(operations.operations[email.operationId]).toMatchObject({ to: ["owner@contoso.test"] });
    expect(sim.email.sentTo("OWNER@contoso.test")).toMatchObject([{ operationId: email.operationId, subject: email.subject }]);
    // Accepted on the 202: not one status read.
    expect(sim.email.stats.statusReads).toBe(0);
  });

  it("checks the HMAC signature: a wrong access key is refused with 401, the right one works", async () => {
    const sim = await start();
    const wrongKey = randomBytes(32).toString("base64");

    const error = await sendError(keySender(sim, wrongKey).send(message("a@contoso.test")));
    expect(error).toMatchObject({ code: "EMAIL.SEND_FAILED", statusCode: 401, retryable: false });
    expect(error.message).not.toContain(wrongKey);
    expect(sim.email.messages()).toHaveLength(0);
    expect(sim.email.stats.unauthorized).toBeGreaterThan(0);

    await expect(keySender(sim).send(message("a@contoso.test"))).resolves.toEqual({ status: "Accepted" });
    expect(sim.email.sentTo("a@contoso.test")).toHaveLength(1);
  });

  it("sends with an Entra ID token for the Communication Services scope", async () => {
    const sim = await start();
    const credential = new SimulatorCredential();
    const sender = new AcsEmailSender({ endpoint: sim.url, credential, senderAddress: SENDER, ca: sim.ca, ...FAST });

    await expect(sender.send(message("b@contoso.test"))).resolves.toEqual({ status: "Accepted" });
    expect(credential.scopesRequested).toContain(COMMUNICATION_SCOPE);
    const rawNoAuth = await new Promise<number>((resolve, reject) => {
      request(new URL("/emails/operations/x?api-version=2025-09-01", sim.url), { ca: sim.ca }, (res) => resolve(res.resume().statusCode ?? 0))
        .on("error", reject)
        .end();
    });
    expect(rawNoAuth).toBe(401);
  });

  it("looks up a sent operation without sending, and says NotFound for an unknown id", async () => {
    const sim = await start();
    const sender = keySender(sim);
    const email = message("c@contoso.test");
    await sender.send(email);

    await expect(sender.lookup(email.operationId)).resolves.toEqual({ status: "Running" });
    await expect(sender.lookup(email.operationId)).resolves.toEqual({ status: "Succeeded" });
    await expect(sender.lookup(randomUUID())).resolves.toEqual({ status: "NotFound" });
    expect(sim.email.messages()).toHaveLength(1);
  });

  it("delivers once when the same operation id is sent twice", async () => {
    const sim = await start();
    const sender = keySender(sim);
    const email = message("d@contoso.test");

    await expect(sender.send(email)).resolves.toEqual({ status: "Accepted" });
    await expect(sender.send({ ...email })).resolves.toEqual({ status: "Accepted" });
    expect(sim.email.sentTo("d@contoso.test")).toHaveLength(1);
    expect(sim.email.stats).toMatchObject({ accepted: 1, repeated: 1 });
  });

  it("accepts a message to a .invalid recipient, whose operation then ends Failed with EmailDropped", async () => {
    const sim = await start();
    const sender = keySender(sim);
    const email = message("nobody@example.invalid");

    await expect(sender.send(email)).resolves.toEqual({ status: "Accepted" });
    await expect(sender.lookup(email.operationId)).resolves.toEqual({ status: "Running" });
    await expect(sender.lookup(email.operationId)).resolves.toMatchObject({ status: "Failed", error: expect.stringContaining("EmailDropped") });
    expect(sim.email.sentTo("nobody@example.invalid")).toMatchObject([{ status: "Failed", error: { code: "EmailDropped" } }]);
  });

  it("honours Retry-After on a throttled 2nd message and still delivers it", async () => {
    const sim = await start({}, [{ pathPattern: "^/emails:send$", method: "POST", status: 429, headers: { "retry-after": "1" }, after: 1, times: 1 }]);
    const sender = keySender(sim);
    await expect(sender.send(message("e@contoso.test"))).resolves.toEqual({ status: "Accepted" });

    const started = performance.now();
    await expect(sender.send(message("f@contoso.test"))).resolves.toEqual({ status: "Accepted" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(sim.stats.throttled429).toBe(1);
    expect(sim.email.messages().map((m) => m.to[0])).toEqual(["e@contoso.test", "f@contoso.test"]);
  });

  it("answers 429 with Retry-After beyond the per-minute limit of a sender", async () => {
    const sim = await start({ limits: { perMinute: 2, perHour: 100 } });
    const sender = keySender(sim, KEY, { retry: { maxRetries: 0 } });
    await sender.send(message("g1@contoso.test"));
    await sender.send(message("g2@contoso.test"));

    const error = await sendError(sender.send(message("g3@contoso.test")));
    expect(error).toMatchObject({ code: "EMAIL.SEND_FAILED", statusCode: 429, retryable: true });
    expect(sim.email.sentTo("g3@contoso.test")).toHaveLength(0);

    const raw = await rawRequest(sim, "POST", "/emails:send?api-version=2025-09-01", {
      senderAddress: SENDER.toLowerCase(),
      recipients: { to: [{ address: "g4@contoso.test" }] },
      content: { subject: "s", plainText: "t" },
    });
    expect(raw.status).toBe(429);
    const retryAfter = Number(raw.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it("refuses malformed messages with 400 BadRequest", async () => {
    const sim = await start();
    const raw = await rawRequest(sim, "POST", "/emails:send?api-version=2025-09-01", {
      senderAddress: SENDER,
      recipients: { to: [] },
      content: { subject: "s", plainText: "t" },
    });
    expect(raw).toMatchObject({ status: 400, body: { error: { code: "BadRequest" } } });
    const noBody = await rawRequest(sim, "POST", "/emails:send?api-version=2025-09-01", {
      senderAddress: SENDER,
      recipients: { to: [{ address: "h@contoso.test" }] },
      content: { subject: "s" },
    });
    expect(noBody.status).toBe(400);
    expect(sim.email.messages()).toHaveLength(0);
  });

  it("sends attachments through the ACS sender and keeps them with the message; refuses an attachment without content, or a request over 10 MB", async () => {
    const sim = await start();
    const attachment = { name: "renderbatch--render-pool.json", contentType: "application/json", contentInBase64: Buffer.from('{"properties":{}}').toString("base64") };
    const email = { ...message("owner@contoso.test"), attachments: [attachment] };
    await expect(keySender(sim).send(email)).resolves.toEqual({ status: "Accepted" });
    const stored = JSON.parse(await readFile(join(outDir, "emails", `${email.operationId}.json`), "utf8")) as { attachments?: unknown };
    expect(stored.attachments).toEqual([attachment]);

    const base = { senderAddress: SENDER, recipients: { to: [{ address: "h@contoso.test" }] }, content: { subject: "s", plainText: "t" } };
    const missing = await rawRequest(sim, "POST", "/emails:send?api-version=2025-09-01", { ...base, attachments: [{ name: "a.json", contentType: "application/json" }] });
    expect(missing).toMatchObject({ status: 400, body: { error: { code: "BadRequest" } } });
    const huge = await rawRequest(sim, "POST", "/emails:send?api-version=2025-09-01", {
      ...base,
      attachments: [{ name: "big.bin", contentType: "application/octet-stream", contentInBase64: "A".repeat(10 * 1024 * 1024 + 4) }],
    });
    expect(huge.status).toBe(400);
    expect(sim.email.messages()).toHaveLength(1);
  });

  it("a file type the service refuses costs only that attachment: the sender asks the service to drop it, not to refuse the digest", async () => {
    const sim = await start({ refusedAttachmentExtensions: [".sh"] });
    const kit = { name: "renderbatch--render-pool.json", contentType: "application/json", contentInBase64: Buffer.from("{}").toString("base64") };
    const script = { name: "renderbatch--render-pool.sh", contentType: "text/plain", contentInBase64: Buffer.from("#!/bin/sh\n").toString("base64") };
    const email = { ...message("owner@contoso.test"), attachments: [kit, script] };
    await expect(keySender(sim).send(email)).resolves.toEqual({ status: "Accepted" });
    const stored = JSON.parse(await readFile(join(outDir, "emails", `${email.operationId}.json`), "utf8")) as { attachments?: unknown };
    expect(stored.attachments).toEqual([kit]);

    // Without the header, as the service does by default, the whole send is refused.
    const base = { senderAddress: SENDER, recipients: { to: [{ address: "h@contoso.test" }] }, content: { subject: "s", plainText: "t" } };
    const refused = await rawRequest(sim, "POST", "/emails:send?api-version=2025-09-01", { ...base, attachments: [kit, script] });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: "BadRequest" } } });
    expect(sim.email.messages()).toHaveLength(1);
  });

  it("fails a send at once, without waiting, when a 429 asks for longer than a few seconds", async () => {
    const sim = await start({}, [{ pathPattern: "^/emails:send$", method: "POST", status: 429, headers: { "retry-after": "3600" }, times: 1 }]);
    // MAX_RETRY_WAIT_SECONDS allows a minute; the mail sender still waits at most a few seconds.
    const sender = keySender(sim, KEY, { maxRetryWaitMs: 60_000 });
    const started = performance.now();
    const error = await sendError(sender.send(message("k@contoso.test")));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(error).toMatchObject({ code: "EMAIL.SEND_FAILED", statusCode: 429, retryable: true });
    expect(error.message).toContain("asked to wait 3600 s before trying again, longer than EMAIL_MAX_RETRY_WAIT_MS (5 s)");
    expect(error.message).not.toContain("MAX_RETRY_WAIT_SECONDS");
    expect(sim.email.messages()).toHaveLength(0);
  });

  it("fails a send at once when a 429 names no wait at all", async () => {
    const sim = await start({}, [{ pathPattern: "^/emails:send$", method: "POST", status: 429, times: 1 }]);
    const error = await sendError(keySender(sim).send(message("l@contoso.test")));
    expect(error).toMatchObject({ code: "EMAIL.SEND_FAILED", statusCode: 429, retryable: true });
    expect(error.message).toContain("without saying how long");
    expect(sim.stats.throttled429).toBe(1);
  });

  it("still answers lookups for operations a previous simulator process accepted", async () => {
    const first = await start();
    const email = message("j@contoso.test");
    await expect(keySender(first).send(email)).resolves.toEqual({ status: "Accepted" });
    await first.close();

    const second = await start();
    const sender = keySender(second);
    await expect(sender.lookup(email.operationId)).resolves.toEqual({ status: "Running" });
    // A resend after the crash is recognised, not delivered again.
    await expect(sender.send(email)).resolves.toEqual({ status: "Accepted" });
    expect(second.email.sentTo("j@contoso.test")).toHaveLength(1);
    expect(second.email.stats).toMatchObject({ accepted: 0, repeated: 1 });
  });
});
