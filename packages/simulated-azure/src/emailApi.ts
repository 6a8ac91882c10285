// Simulated Azure Communication Services Email (data plane, api-version 2025-09-01): `POST /emails:send` answers 202
// with an Operation-Location to poll, `GET /emails/operations/{id}` reports Running, then Succeeded or Failed.
// It checks auth as the service does (Entra bearer token or HMAC-SHA256 over date, host and body hash), honours the
// client's `operation-id` for repeatability, limits sends and status reads per Communication Services resource
// (429 with Retry-After; Microsoft Learn, "Service limits for Azure Communication Services", email section), and can
// keep what it accepted on disk so that a later simulator process still knows the operations (as the real service
// does after the app crashed). After accepting a message it emits one delivery report per recipient, in the Event
// Grid event schema of Microsoft.Communication.EmailDeliveryReportReceived (Microsoft Learn, "Azure Communication
// Services - Email events"), with the status the snapshot's `emailDelivery` gives the address (default Delivered).
// Locally they are queued (in `<outDir>/emails/delivery-events.jsonl` when kept on disk) for the app to take.
import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { appendFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { armError, type Route, type RouteContext, type RouteRequest, type RouteResponse } from "./routes.js";
import type { EmailDeliveryStatus } from "./snapshot.js";

export interface EmailServiceOptions {
  /** Where accepted messages and the operation store are written (`<outDir>/emails`); in memory only when absent. */
  outDir?: string;
  /** The resource's access key (base64). When set, HMAC signatures are verified against it. */
  accessKey?: string;
  /** Send limits of the Communication Services resource (sliding windows); Azure-managed domain: 5/min, 10/h. */
  limits?: { perMinute: number; perHour: number };
  /** Get Email Status limits of the resource (sliding windows); Azure-managed domain: 10/min, 20/h. */
  statusReadLimits?: { perMinute: number; perHour: number };
  /** How long an operation stays Running after acceptance (it is always Running on its first read). Default 0. */
  deliveryDelayMs?: number;
  /**
   * File name endings (e.g. `.sh`) whose attachments this resource refuses as invalid: a scripted stand-in for the
   * service's attachment type check (Learn "Allowed attachment types for sending email in Azure Communication
   * Services", email-attachment-allowed-mime-types), whose table the simulator does not copy. What a refusal does
   * is modelled as documented (Learn "Adding Reserved Custom headers", email-headers): the send is a 400 Bad Request,
   * unless the message's `x-ms-acsemail-suppress-invalid-attachment` header is `true`, when it goes on without the
   * invalid attachment.
   */
  refusedAttachmentExtensions?: string[];
}

/** The custom header that makes the service drop an invalid attachment instead of refusing the send (email-headers). */
export const SUPPRESS_INVALID_ATTACHMENT_HEADER = "x-ms-acsemail-suppress-invalid-attachment";

export type EmailOperationStatus = "Running" | "Succeeded" | "Failed";

/** One accepted send operation, as kept in `operations.json`. */
export interface EmailOperationRecord {
  id: string;
  status: EmailOperationStatus;
  error?: { code: string; message: string };
  senderAddress: string;
  to: string[];
  /** Every recipient (to, cc, bcc); a `.invalid` domain among them makes the operation fail. */
  recipients: string[];
  subject: string;
  createdAt: string;
  completedAt?: string;
}

export interface SimulatedEmail {
  operationId: string;
  senderAddress: string;
  to: string[];
  subject: string;
  status: EmailOperationStatus;
  error?: { code: string; message: string };
  createdAt: string;
}

export interface EmailServiceStats {
  /** New operations accepted (each one is one message delivered or dropped). */
  accepted: number;
  /** Sends answered from an existing operation because the operation-id was seen before. */
  repeated: number;
  badRequests: number;
  unauthorized: number;
  throttled: number;
  statusReads: number;
  /** Delivery report events emitted. */
  deliveryReports: number;
}

/** An Event Grid event (EventGridSchema) of type Microsoft.Communication.EmailDeliveryReportReceived. */
export interface DeliveryReportEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: "Microsoft.Communication.EmailDeliveryReportReceived";
  eventTime: string;
  dataVersion: "1.0";
  data: {
    sender: string;
    recipient: string;
    messageId: string;
    status: EmailDeliveryStatus;
    deliveryStatusDetails: { statusMessage: string };
    deliveryAttemptTimeStamp: string;
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How far `x-ms-date` may be from the server clock, as the service allows. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;
const MAX_RECIPIENTS = 50;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

interface StoreFile {
  version: 1;
  operations: Record<string, EmailOperationRecord>;
}

export class SimulatedEmailService {
  readonly stats: EmailServiceStats = { accepted: 0, repeated: 0, badRequests: 0, unauthorized: 0, throttled: 0, statusReads: 0, deliveryReports: 0 };
  /** Delivery reports not yet taken (when not kept on disk). */
  private readonly events: DeliveryReportEvent[] = [];
  private readonly operations = new Map<string, EmailOperationRecord>();
  /**
   * Accepted operations whose message files are not written yet: the store leaves them out, so that another send's
   * write of the store, landing first, does not make an operation durable before its files are (a process killed in
   * between would leave an operation that was never answered 202, with no message).
   */
  private readonly notYetKept = new Set<string>();
  /** Operations whose status was read once in this process: the first read says Running, as a real queue would. */
  private readonly readOnce = new Set<string>();
  /** Accepted-send and status-read timestamps of the resource, for the sliding-window limits. */
  private readonly sendTimes = new Map<string, number[]>();
  private readonly dir: string | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: RouteContext,
    private readonly options: EmailServiceOptions = {},
  ) {
    this.dir = options.outDir ? join(options.outDir, "emails") : undefined;
    if (this.dir) {
      mkdirSync(this.dir, { recursive: true });
      this.load(join(this.dir, "operations.json"));
    }
  }

  /** What was accepted, oldest first (including operations loaded from an earlier process). */
  messages(): SimulatedEmail[] {
    return [...this.operations.values()].map((op) => ({
      operationId: op.id,
      senderAddress: op.senderAddress,
      to: [...op.to],
      subject: op.subject,
      status: op.status,
      ...(op.error ? { error: { ...op.error } } : {}),
      createdAt: op.createdAt,
    }));
  }

  /** Messages with this address among their `to` recipients (case-insensitive). */
  sentTo(address: string): SimulatedEmail[] {
    const wanted = address.toLowerCase();
    return this.messages().filter((m) => m.to.some((t) => t.toLowerCase() === wanted));
  }

  operation(id: string): EmailOperationRecord | undefined {
    const op = this.operations.get(id.toLowerCase());
    return op ? structuredClone(op) : undefined;
  }

  /** Resolves when every pending write to `outDir` is on disk. */
  flush(): Promise<void> {
    return this.writes;
  }

  routes(): Route[] {
    return [
      { method: "POST", pattern: /^\/emails:send$/, auth: "none", handle: (req) => this.send(req) },
      { method: "GET", pattern: /^\/emails\/operations\/([^/]+)$/, auth: "none", handle: (req) => this.status(req) },
    ];
  }

  private async send(req: RouteRequest): Promise<RouteResponse> {
    const denied = this.checkAuth(req);
    if (denied) return denied;
    const apiVersion = req.query.get("api-version");
    if (!apiVersion) return this.badRequest("The api-version query parameter is required.");

    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return this.badRequest("The request body is not valid JSON.");
    }
    const validated = validateMessage(body, this.options.refusedAttachmentExtensions ?? []);
    if (typeof validated === "string") return this.badRequest(validated);
    const { message, kept } = validated;

    const header = headerValue(req, "operation-id");
    if (header !== undefined && !UUID.test(header)) return this.badRequest("The Operation-Id header must be a GUID.");
    const id = (header ?? randomUUID()).toLowerCase();

    const existing = this.operations.get(id);
    if (existing) {
      // Repeatability: the same operation id is the same send; answer with it instead of sending again.
      this.stats.repeated++;
      return this.accepted(existing, apiVersion);
    }

    // The quota is the resource's (per subscription), whatever sender address a message uses.
    const waitSeconds = this.throttle("send", this.options.limits);
    if (waitSeconds !== undefined) {
      this.stats.throttled++;
      return {
        status: 429,
        headers: { "retry-after": String(waitSeconds) },
        body: armError("TooManyRequests", `The resource has exceeded its send quota. Retry after ${waitSeconds} seconds.`),
      };
    }

    const record: EmailOperationRecord = {
      id,
      status: "Running",
      senderAddress: message.senderAddress,
      to: message.to,
      recipients: message.recipients,
      subject: message.subject,
      createdAt: new Date().toISOString(),
    };
    this.operations.set(id, record);
    this.stats.accepted++;
    if (this.dir) {
      const dir = this.dir;
      // Accepted means durable: the message files and the store are written before the 202 goes out.
      this.notYetKept.add(id);
      try {
        await this.enqueueWrite(async () => {
          await atomicWrite(join(dir, `${id}.json`), `${JSON.stringify(kept, null, 2)}\n`);
          await atomicWrite(join(dir, `${id}.html`), message.html ?? `<pre>${escapeHtml(message.plainText ?? "")}</pre>\n`);
        });
        this.notYetKept.delete(id);
        await this.persist();
      } catch (error) {
        // Not durable, so not accepted: a retry with the same id must send, not find a half-kept operation.
        this.notYetKept.delete(id);
        this.operations.delete(id);
        this.stats.accepted--;
        throw error;
      }
    }
    await this.emitDeliveryReports(record);
    return this.accepted(record, apiVersion);
  }

  private async status(req: RouteRequest): Promise<RouteResponse> {
    const denied = this.checkAuth(req);
    if (denied) return denied;
    const waitSeconds = this.throttle("status", this.options.statusReadLimits);
    if (waitSeconds !== undefined) {
      this.stats.throttled++;
      return {
        status: 429,
        headers: { "retry-after": String(waitSeconds) },
        body: armError("TooManyRequests", `The resource has exceeded its Get Email Status quota. Retry after ${waitSeconds} seconds.`),
      };
    }
    this.stats.statusReads++;
    const id = safeDecode(req.match[1] ?? "").toLowerCase();
    const op = this.operations.get(id);
    if (!op) return { status: 404, body: armError("NotFound", `The operation '${id}' was not found.`) };

    if (op.status === "Running") {
      const firstRead = !this.readOnce.has(id);
      this.readOnce.add(id);
      if (firstRead || Date.now() < Date.parse(op.createdAt) + (this.options.deliveryDelayMs ?? 0)) {
        return { status: 200, headers: { "retry-after": "0" }, body: { id, status: "Running" } };
      }
      const dropped = op.recipients.find(isUndeliverable);
      op.status = dropped ? "Failed" : "Succeeded";
      if (dropped) op.error = { code: "EmailDropped", message: `Email was dropped after several attempts to deliver to ${dropped}.` };
      op.completedAt = new Date().toISOString();
      await this.persist();
    }
    return { status: 200, body: { id, status: op.status, ...(op.error ? { error: op.error } : {}) } };
  }

  private accepted(op: EmailOperationRecord, apiVersion: string): RouteResponse {
    const location = new URL(`/emails/operations/${op.id}`, this.ctx.baseUrl());
    location.searchParams.set("api-version", apiVersion);
    return {
      status: 202,
      // retry-after 0: the SDK poller then keeps the client's own interval (a positive value would override it).
      headers: { "operation-location": location.toString(), "retry-after": "0" },
      body: { id: op.id, status: op.status === "Running" ? "Running" : op.status },
    };
  }

  private badRequest(message: string): RouteResponse {
    this.stats.badRequests++;
    return { status: 400, body: armError("BadRequest", message) };
  }

  /** Delivery reports emitted and not yet taken, oldest first. */
  async pendingDeliveryReports(): Promise<DeliveryReportEvent[]> {
    await this.writes;
    if (!this.dir) return [...this.events];
    return readEvents(join(this.dir, "delivery-events.jsonl"));
  }

  /**
   * Takes the first `count` pending delivery reports off the queue, once the app has recorded them (record, then
   * acknowledge: a crash in between hands the same reports over again, which recording idempotently absorbs).
   */
  acknowledgeDeliveryReports(count: number): Promise<void> {
    if (!this.dir) {
      this.events.splice(0, count);
      return Promise.resolve();
    }
    const file = join(this.dir, "delivery-events.jsonl");
    return this.enqueueWrite(async () => {
      const rest = readEvents(file).slice(count);
      await atomicWrite(file, rest.map((e) => `${JSON.stringify(e)}\n`).join(""));
    });
  }

  private emitDeliveryReports(op: EmailOperationRecord): Promise<void> {
    const configured = new Map(Object.entries(this.ctx.snapshot.emailDelivery ?? {}).map(([a, s]) => [a.toLowerCase(), s]));
    const at = new Date().toISOString();
    const events: DeliveryReportEvent[] = op.recipients.map((recipient) => {
      const status: EmailDeliveryStatus = configured.get(recipient.toLowerCase()) ?? (isUndeliverable(recipient) ? "Failed" : "Delivered");
      return {
        id: randomUUID(),
        topic: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/simulated/providers/Microsoft.Communication/CommunicationServices/simulated-acs",
        subject: `sender/${op.senderAddress}/message/${op.id}`,
        eventType: "Microsoft.Communication.EmailDeliveryReportReceived",
        eventTime: at,
        dataVersion: "1.0",
        data: {
          sender: op.senderAddress,
          recipient,
          messageId: op.id,
          status,
          deliveryStatusDetails: { statusMessage: STATUS_MESSAGES[status] },
          deliveryAttemptTimeStamp: at,
        },
      };
    });
    this.stats.deliveryReports += events.length;
    if (!this.dir) {
      this.events.push(...events);
      return Promise.resolve();
    }
    const file = join(this.dir, "delivery-events.jsonl");
    return this.enqueueWrite(() => appendFile(file, events.map((e) => `${JSON.stringify(e)}\n`).join(""), "utf8"));
  }

  /** Seconds until the resource may take another call of this kind, or undefined when under both limits (then recorded). */
  private throttle(kind: "send" | "status", limits: { perMinute: number; perHour: number } | undefined): number | undefined {
    if (!limits) return undefined;
    const now = Date.now();
    const times = (this.sendTimes.get(kind) ?? []).filter((t) => t > now - HOUR_MS);
    this.sendTimes.set(kind, times);
    let waitMs = 0;
    // Sliding window: the slot frees when the oldest send still inside the window leaves it.
    for (const [limit, windowMs] of [
      [limits.perMinute, MINUTE_MS],
      [limits.perHour, HOUR_MS],
    ] as const) {
      const inWindow = times.filter((t) => t > now - windowMs);
      if (inWindow.length >= limit) {
        const oldestBlocking = inWindow[inWindow.length - limit] ?? now;
        waitMs = Math.max(waitMs, oldestBlocking + windowMs - now);
      }
    }
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    times.push(now);
    return undefined;
  }

  private checkAuth(req: RouteRequest): RouteResponse | undefined {
    const problem = authProblem(req, this.options.accessKey);
    if (!problem) return undefined;
    this.stats.unauthorized++;
    return { status: 401, body: armError("Unauthorized", problem) };
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const data = JSON.parse(text) as Partial<StoreFile>;
    if (data.version !== 1 || typeof data.operations !== "object" || data.operations === null) {
      throw new Error(`${file} is not an email operation store (version 1).`);
    }
    for (const [id, op] of Object.entries(data.operations)) this.operations.set(id.toLowerCase(), op);
  }

  private persist(): Promise<void> {
    const dir = this.dir;
    if (!dir) return Promise.resolve();
    return this.enqueueWrite(() => {
      const store: StoreFile = { version: 1, operations: Object.fromEntries([...this.operations].filter(([id]) => !this.notYetKept.has(id))) };
      return atomicWrite(join(dir, "operations.json"), `${JSON.stringify(store, null, 2)}\n`);
    });
  }

  /** Writes run one at a time, so an older snapshot of the store never lands after a newer one. */
  private enqueueWrite(write: () => Promise<void>): Promise<void> {
    const next = this.writes.then(write);
    // Keep the chain alive after a failed write; the caller still sees the failure.
    this.writes = next.catch(() => undefined);
    return next;
  }
}

/** Route factory for `startSimulator({ extraRoutes })`; use `SimulatedEmailService` directly to read what was sent. */
export function emailRoutes(ctx: RouteContext, options: EmailServiceOptions): Route[] {
  return new SimulatedEmailService(ctx, options).routes();
}

let atomicCounter = 0;
async function atomicWrite(file: string, text: string): Promise<void> {
  // Temp + rename: a crash mid-write leaves the previous file intact, never a torn one.
  const temp = `${file}.${process.pid}.${++atomicCounter}.tmp`;
  await writeFile(temp, text, "utf8");
  await rename(temp, file);
}

interface ValidMessage {
  senderAddress: string;
  to: string[];
  recipients: string[];
  subject: string;
  html?: string;
  plainText?: string;
}

/**
 * The service's request checks; a string is the 400 message. `kept` is the message as the service goes on with it:
 * without attachments it dropped as invalid under the suppress header.
 */
function validateMessage(body: unknown, refusedExtensions: readonly string[]): { message: ValidMessage; kept: Record<string, unknown> } | string {
  if (!isObject(body)) return "The request body must be an email message object.";
  const { senderAddress, recipients, content } = body;
  if (typeof senderAddress !== "string" || !isAddress(senderAddress)) return "senderAddress is required and must be an email address.";
  if (!isObject(recipients)) return "recipients is required.";
  if (!isObject(content)) return "content is required.";
  if (typeof content.subject !== "string" || content.subject.trim() === "") return "content.subject is required.";
  const html = typeof content.html === "string" && content.html !== "" ? content.html : undefined;
  const plainText = typeof content.plainText === "string" && content.plainText !== "" ? content.plainText : undefined;
  if (html === undefined && plainText === undefined) return "content must have html or plainText.";

  const lists: Record<string, string[]> = {};
  for (const kind of ["to", "cc", "bcc"] as const) {
    const list = recipients[kind];
    if (list === undefined || list === null) {
      lists[kind] = [];
      continue;
    }
    if (!Array.isArray(list)) return `recipients.${kind} must be an array.`;
    const addresses: string[] = [];
    for (const [i, entry] of list.entries()) {
      const address: unknown = isObject(entry) ? entry.address : undefined;
      if (typeof address !== "string" || !isAddress(address)) return `recipients.${kind}[${i}].address must be an email address.`;
      addresses.push(address);
    }
    lists[kind] = addresses;
  }
  const to = lists.to ?? [];
  if (to.length === 0) return "recipients.to must have at least one recipient.";
  const all = [...to, ...(lists.cc ?? []), ...(lists.bcc ?? [])];
  if (all.length > MAX_RECIPIENTS) return `An email may have at most ${MAX_RECIPIENTS} recipients.`;
  const attachmentProblem = checkAttachments(body.attachments, JSON.stringify(body).length);
  if (attachmentProblem) return attachmentProblem;
  // EmailMessage.headers: custom headers, a map of strings (Email REST API 2025-09-01).
  const headers = body.headers;
  if (headers !== undefined && headers !== null && (!isObject(headers) || Object.values(headers).some((v) => typeof v !== "string"))) return "headers must map header names to strings.";
  let kept: Record<string, unknown> = body;
  if (Array.isArray(body.attachments) && refusedExtensions.length > 0) {
    const invalid = (a: unknown) => refusedExtensions.some((ext) => String((a as { name: string }).name).toLowerCase().endsWith(ext.toLowerCase()));
    const refused = body.attachments.filter(invalid);
    if (refused.length > 0) {
      const suppress = isObject(headers) && Object.entries(headers).some(([k, v]) => k.toLowerCase() === SUPPRESS_INVALID_ATTACHMENT_HEADER && String(v).toLowerCase() === "true");
      if (!suppress) return `Attachment '${String((refused[0] as { name: string }).name)}' has a file type that is not allowed.`;
      const rest = body.attachments.filter((a) => !invalid(a));
      const { attachments: _dropped, ...others } = body;
      kept = rest.length > 0 ? { ...others, attachments: rest } : others;
    }
  }
  return { message: { senderAddress, to, recipients: all, subject: content.subject, ...(html ? { html } : {}), ...(plainText ? { plainText } : {}) }, kept };
}

/**
 * Attachments as the send request takes them (Email REST API 2025-09-01, EmailAttachment: `name`, `contentType`,
 * `contentInBase64`, all required) and the service's size limit: 10 MB per request, attachments included (Learn:
 * "Service limits for Azure Communication Services", Email). They are kept with the message (`<id>.json`).
 */
export const MAX_EMAIL_REQUEST_BYTES = 10 * 1024 * 1024;

function checkAttachments(attachments: unknown, requestBytes: number): string | undefined {
  if (attachments === undefined || attachments === null) return undefined;
  if (!Array.isArray(attachments)) return "attachments must be an array.";
  for (const [i, a] of attachments.entries()) {
    if (!isObject(a)) return `attachments[${i}] must be an object.`;
    for (const key of ["name", "contentType", "contentInBase64"] as const) {
      if (typeof a[key] !== "string" || a[key] === "") return `attachments[${i}].${key} is required.`;
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(String(a.contentInBase64))) return `attachments[${i}].contentInBase64 must be base64.`;
  }
  if (requestBytes > MAX_EMAIL_REQUEST_BYTES) return `The email request is ${requestBytes} bytes; the limit, attachments included, is ${MAX_EMAIL_REQUEST_BYTES}.`;
  return undefined;
}

/** The `deliveryStatusDetails.statusMessage` the simulator gives each status (the service's own texts vary). */
const STATUS_MESSAGES: Record<EmailDeliveryStatus, string> = {
  Delivered: "No error.",
  Bounced: "550 5.1.1 The email account that you tried to reach does not exist.",
  Suppressed: "The recipient is on the suppression list of the sending domain.",
  Quarantined: "The message was quarantined by the recipient's mail system.",
  FilteredSpam: "The message was identified as spam and filtered.",
  Failed: "The message could not be delivered after several attempts.",
};

function readEvents(file: string): DeliveryReportEvent[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  // A torn last line (the process died mid-append) is left for the next append to follow on a new line.
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as DeliveryReportEvent];
      } catch {
        return [];
      }
    });
}

/** RFC 2606 reserves `.invalid`: the simulator drops mail to it, as the service drops undeliverable mail. */
function isUndeliverable(address: string): boolean {
  const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  return domain === "invalid" || domain.endsWith(".invalid");
}

function isAddress(value: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function headerValue(req: RouteRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Why the request is not authenticated, or undefined when it is. Bearer tokens are taken as the simulator's other
 * routes take them. HMAC: `x-ms-content-sha256` must be the body's hash, the date recent, and — when the access key
 * is known — `Signature` the base64 HMAC-SHA256 (key base64-decoded) of "VERB\npath?query\n<signed header values
 * joined by ;>", the string `@azure/communication-common` signs.
 */
function authProblem(req: RouteRequest, accessKey: string | undefined): string | undefined {
  const authorization = headerValue(req, "authorization") ?? "";
  if (/^Bearer \S+/.test(authorization)) return undefined;
  const hmac = /^HMAC-SHA256 SignedHeaders=([^&\s]+)&Signature=(\S+)$/.exec(authorization);
  if (!hmac) return "The request has no valid Authorization header (Bearer or HMAC-SHA256).";
  const signedHeaders = (hmac[1] ?? "").toLowerCase().split(";");
  const signature = hmac[2] ?? "";
  if (!signedHeaders.includes("host") || !signedHeaders.includes("x-ms-content-sha256") || !signedHeaders.some((h) => h === "x-ms-date" || h === "date")) {
    return "SignedHeaders must include x-ms-date (or date), host and x-ms-content-sha256.";
  }
  const values: string[] = [];
  for (const name of signedHeaders) {
    const value = headerValue(req, name);
    if (value === undefined) return `The signed header '${name}' is missing.`;
    values.push(value);
  }

  const contentHash = createHash("sha256").update(req.body, "utf8").digest("base64");
  if (headerValue(req, "x-ms-content-sha256") !== contentHash) return "x-ms-content-sha256 does not match the request body.";
  const date = Date.parse(headerValue(req, "x-ms-date") ?? headerValue(req, "date") ?? "");
  if (Number.isNaN(date) || Math.abs(Date.now() - date) > MAX_CLOCK_SKEW_MS) return "The request date is missing or too far from the server time.";

  if (accessKey === undefined) return undefined;
  // Sign the request target as sent (the router collapses `//`, the client signed what it wrote).
  const target = new URL(req.rawPath, "https://simulator");
  const query = target.searchParams.toString();
  const stringToSign = `${req.method}\n${target.pathname}${query ? `?${query}` : ""}\n${values.join(";")}`;
  const expected = createHmac("sha256", Buffer.from(accessKey, "base64")).update(stringToSign, "utf8").digest();
  const given = Buffer.from(signature, "base64");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "The HMAC signature does not match.";
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
