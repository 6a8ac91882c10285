// EmailSender over Azure Communication Services Email. A send is one POST /emails:send with our operation id: the
// service's 202 means accepted, and nothing polls afterwards (status reads are limited far below sends: Microsoft
// Learn, "Service limits for Azure Communication Services", email: 10 per minute and 20 per hour on an Azure-managed
// domain). The final status arrives as a delivery report through Event Grid. Lookups read the operation status, for
// recovery after a crash only. Both go through one pipeline with the SDK's auth policy (HMAC or Entra ID), and a 429
// is never waited out for more than a few seconds: the caller defers the rest of its messages instead.
import { createCommunicationAuthPolicy } from "@azure/communication-common";
import { AzureKeyCredential, type KeyCredential, type TokenCredential } from "@azure/core-auth";
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  isRestError,
  type HttpClient,
  type Pipeline,
  type PipelineResponse,
  type RestError,
} from "@azure/core-rest-pipeline";
import { AuditError } from "../core/errors.js";
import type { DeliveryResult, EmailSender, OutgoingEmail } from "../core/ports.js";
import { retryWaitCapPolicy, WAIT_TOO_LONG } from "./retryWaitCap.js";

/** The api-version `@azure/communication-email` 1.1.0 speaks; sends and lookups use it. */
export const EMAIL_API_VERSION = "2025-09-01";
/** The scope the SDK's auth policy asks Entra ID for (the double slash is the SDK's). */
export const COMMUNICATION_SCOPE = "https://communication.azure.com//.default";
/** The longest Retry-After a send or status read waits out inside one call, whatever MAX_RETRY_WAIT_SECONDS says. */
export const EMAIL_MAX_RETRY_WAIT_MS = 5_000;

export interface AcsEmailSenderOptions {
  /** https://<resource>.communication.azure.com, or the simulator's URL. */
  endpoint: string;
  credential: TokenCredential | KeyCredential;
  /** MailFrom address of a verified domain. */
  senderAddress: string;
  /** Extra CA to trust (the simulator's self-signed certificate). */
  ca?: string;
  /** Pipeline retries; 429/503 retries wait for the service's Retry-After, up to the wait cap. */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /**
   * The longest Retry-After a retry waits out (MAX_RETRY_WAIT_SECONDS), never more than EMAIL_MAX_RETRY_WAIT_MS; a
   * longer one, or a 429 naming no wait, fails the call at once.
   */
  maxRetryWaitMs?: number;
}

type ConnectionOptions = Omit<AcsEmailSenderOptions, "endpoint" | "credential" | "senderAddress">;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class AcsEmailSender implements EmailSender {
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  private readonly endpoint: string;
  private readonly senderAddress: string;

  constructor(options: AcsEmailSenderOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.senderAddress = options.senderAddress;
    this.pipeline = createPipelineFromOptions({
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
      ...(options.retry ? { retryOptions: options.retry } : {}),
    });
    this.pipeline.addPolicy(createCommunicationAuthPolicy(options.credential));
    // The error names the cap that applied: the mail sender's own (EMAIL_MAX_RETRY_WAIT_MS), or a smaller
    // MAX_RETRY_WAIT_SECONDS.
    const configured = options.maxRetryWaitMs ?? EMAIL_MAX_RETRY_WAIT_MS;
    const cap = Math.min(configured, EMAIL_MAX_RETRY_WAIT_MS);
    const capSetting = configured < EMAIL_MAX_RETRY_WAIT_MS ? "MAX_RETRY_WAIT_SECONDS" : "EMAIL_MAX_RETRY_WAIT_MS";
    this.pipeline.addPolicy(retryWaitCapPolicy(cap, { throttledWithoutWait: "fail", capSetting }), { afterPhase: "Sign" });
    this.httpClient = createDefaultHttpClient();
  }

  /** From `endpoint=https://...;accesskey=<base64>` (the portal's connection string). */
  static fromConnectionString(connectionString: string, senderAddress: string, options: ConnectionOptions = {}): AcsEmailSender {
    const parts = new Map<string, string>();
    for (const part of connectionString.split(";")) {
      const eq = part.indexOf("=");
      // Split at the first `=` only: the base64 key ends in `=` padding.
      if (eq > 0) parts.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
    }
    const endpoint = parts.get("endpoint");
    const key = parts.get("accesskey");
    // Never echo the connection string: it holds the key.
    if (!endpoint || !key) throw new AuditError("CONFIG.INVALID", "The Communication Services connection string needs endpoint=...;accesskey=...");
    if (!URL.canParse(endpoint)) throw new AuditError("CONFIG.INVALID", "The endpoint in the Communication Services connection string is not a URL.");
    return new AcsEmailSender({ ...options, endpoint, credential: new AzureKeyCredential(key), senderAddress });
  }

  async send(email: OutgoingEmail): Promise<DeliveryResult> {
    // The service only accepts a GUID as Operation-Id; say so here rather than through a 400.
    if (!UUID.test(email.operationId)) {
      throw new AuditError("EMAIL.SEND_FAILED", `Email operation id '${email.operationId}' is not a GUID.`);
    }
    // The body the SDK's EmailMessage serialises to (communication-email 1.1.0, api-version 2025-09-01).
    const body = {
      senderAddress: this.senderAddress,
      content: { subject: email.subject, html: email.html, plainText: email.text },
      recipients: { to: [{ address: email.to }] },
      ...(email.attachments?.length
        ? {
            attachments: email.attachments,
            // Which file types the service takes is its own list (Learn "Allowed attachment types for sending email in
            // Azure Communication Services"), and by default one it does not take fails the whole send (Learn
            // "Adding Reserved Custom headers"). With this header it drops that attachment and sends the rest: the
            // digest's body carries the steps and commands of what it shows in full and the report serves every
            // kit, so a dropped file never costs the owner the reminder.
            headers: { "x-ms-acsemail-suppress-invalid-attachment": "true" },
          }
        : {}),
    };
    const request = createPipelineRequest({
      url: `${this.endpoint}/emails:send?api-version=${EMAIL_API_VERSION}`,
      method: "POST",
      // Operation-Id makes the send repeatable: the same id is the same message to the service.
      headers: createHttpHeaders({ accept: "application/json", "content-type": "application/json", "operation-id": email.operationId }),
      body: JSON.stringify(body),
    });
    let response: PipelineResponse;
    try {
      response = await this.pipeline.sendRequest(this.httpClient, request);
    } catch (error) {
      throw toAuditError(error, "The email service did not accept the message");
    }
    if (response.status === 202) return { status: "Accepted" };
    const detail = errorText(parseJson(response.bodyAsText));
    throw new AuditError("EMAIL.SEND_FAILED", `The email service did not accept the message (HTTP ${response.status}${detail ? `: ${detail}` : ""}).`, {
      retryable: isRetryableStatus(response.status),
      statusCode: response.status,
    });
  }

  async lookup(operationId: string): Promise<DeliveryResult | { status: "NotFound" }> {
    const url = `${this.endpoint}/emails/operations/${encodeURIComponent(operationId)}?api-version=${EMAIL_API_VERSION}`;
    const request = createPipelineRequest({ url, method: "GET", headers: createHttpHeaders({ accept: "application/json" }) });
    let response;
    try {
      response = await this.pipeline.sendRequest(this.httpClient, request);
    } catch (error) {
      throw toAuditError(error, "Could not read the email operation status");
    }
    if (response.status === 404) return { status: "NotFound" };
    const body = parseJson(response.bodyAsText);
    if (response.status !== 200) {
      const detail = errorText(body);
      throw new AuditError("EMAIL.SEND_FAILED", `Could not read the email operation status (HTTP ${response.status}${detail ? `: ${detail}` : ""}).`, {
        retryable: isRetryableStatus(response.status),
        statusCode: response.status,
      });
    }
    const status = isObject(body) ? body.status : undefined;
    switch (status) {
      case "Succeeded":
        return { status: "Succeeded" };
      case "Failed": {
        const detail = errorText(body);
        return detail ? { status: "Failed", error: detail } : { status: "Failed" };
      }
      case "Canceled":
        return { status: "Failed", error: "Canceled" };
      default:
        // NotStarted / Running: the service has it.
        return { status: "Running" };
    }
  }
}

function toAuditError(error: unknown, what: string): AuditError {
  if (!isRestError(error)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new AuditError("EMAIL.SEND_FAILED", `${what}: ${reason}`, { retryable: false });
  }
  const status = error.statusCode;
  const detail = restErrorText(error);
  // No status: the request never got an answer (network, TLS, timeout), which a later attempt may get.
  const retryable = status === undefined || isRetryableStatus(status);
  return new AuditError("EMAIL.SEND_FAILED", `${what} (${status === undefined ? "no response" : `HTTP ${status}`}${detail ? `: ${detail}` : ""}).`, {
    retryable,
    ...(status !== undefined ? { statusCode: status } : {}),
  });
}

function restErrorText(error: RestError): string {
  // Our own wait cap's reason says how long the service asked to wait.
  if (error.code === WAIT_TOO_LONG) return error.message;
  // The service's error body, not the request: headers carry the signature or token.
  const fromBody = errorText(error.details) ?? errorText(parseJson(error.response?.bodyAsText));
  if (fromBody) return fromBody;
  return [error.code, error.message].filter(Boolean).join(": ");
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function errorText(body: unknown): string | undefined {
  const error = isObject(body) && isObject(body.error) ? body.error : undefined;
  if (!error) return undefined;
  const code = typeof error.code === "string" ? error.code : undefined;
  const message = typeof error.message === "string" ? error.message : undefined;
  return [code, message].filter(Boolean).join(": ") || undefined;
}

function parseJson(text: string | undefined | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
