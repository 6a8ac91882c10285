// EmailSender over Azure Communication Services Email: the real EmailClient sends and polls; lookups read the
// operation status with the same auth policy, without sending anything.
import { EmailClient, type EmailClientOptions, type EmailMessage } from "@azure/communication-email";
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
  type RestError,
} from "@azure/core-rest-pipeline";
import { AuditError } from "../core/errors.js";
import type { DeliveryResult, EmailSender, OutgoingEmail } from "../core/ports.js";
import { retryWaitCapPolicy } from "./retryWaitCap.js";

/** The api-version `@azure/communication-email` 1.1.0 speaks; lookups use the same. */
export const EMAIL_API_VERSION = "2025-09-01";
/** The scope the SDK's auth policy asks Entra ID for (the double slash is the SDK's). */
export const COMMUNICATION_SCOPE = "https://communication.azure.com//.default";

export interface AcsEmailSenderOptions {
  /** https://<resource>.communication.azure.com, or the simulator's URL. */
  endpoint: string;
  credential: TokenCredential | KeyCredential;
  /** MailFrom address of a verified domain. */
  senderAddress: string;
  /** Extra CA to trust (the simulator's self-signed certificate). */
  ca?: string;
  /** Pipeline retries; 429/503 retries wait for the service's Retry-After. */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** The longest Retry-After a retry waits out (MAX_RETRY_WAIT_SECONDS); a longer one fails the call at once. */
  maxRetryWaitMs?: number;
  /** Poll interval when the service gives no positive retry-after. Default 2000. */
  pollIntervalMs?: number;
  /** How long send() polls for a terminal status before answering Running. Default 120000. */
  maxWaitMs?: number;
}

type ConnectionOptions = Omit<AcsEmailSenderOptions, "endpoint" | "credential" | "senderAddress">;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class AcsEmailSender implements EmailSender {
  private readonly client: EmailClient;
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  private readonly endpoint: string;
  private readonly senderAddress: string;
  private readonly pollIntervalMs: number;
  private readonly maxWaitMs: number;

  constructor(options: AcsEmailSenderOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.senderAddress = options.senderAddress;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.maxWaitMs = options.maxWaitMs ?? 120_000;
    const clientOptions: EmailClientOptions = {
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
      ...(options.retry ? { retryOptions: options.retry } : {}),
    };
    const cap = options.maxRetryWaitMs === undefined ? undefined : retryWaitCapPolicy(options.maxRetryWaitMs);
    this.client = new EmailClient(this.endpoint, options.credential, { ...clientOptions, ...(cap ? { additionalPolicies: [{ policy: cap, position: "perRetry" }] } : {}) });
    // A bare pipeline for lookups: same TLS, retry, wait cap and auth as the client, no LRO machinery.
    this.pipeline = createPipelineFromOptions(clientOptions);
    this.pipeline.addPolicy(createCommunicationAuthPolicy(options.credential));
    if (cap) this.pipeline.addPolicy(cap, { afterPhase: "Sign" });
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
    // The SDK only accepts a GUID as Operation-Id; say so here rather than through a serializer error.
    if (!UUID.test(email.operationId)) {
      throw new AuditError("EMAIL.SEND_FAILED", `Email operation id '${email.operationId}' is not a GUID.`);
    }
    const deadline = Date.now() + this.maxWaitMs;
    const message: EmailMessage = {
      senderAddress: this.senderAddress,
      content: { subject: email.subject, html: email.html, plainText: email.text },
      recipients: { to: [{ address: email.to }] },
      ...(email.attachments?.length ? { attachments: email.attachments } : {}),
    };

    let poller: Awaited<ReturnType<EmailClient["beginSend"]>>;
    try {
      // beginSend posts, then polls once; a terminal Failed on that poll already throws here.
      poller = await this.client.beginSend(message, { operationId: email.operationId, updateIntervalInMs: this.pollIntervalMs });
    } catch (error) {
      if (isSendRequestError(error)) throw toAuditError(error, "The email service did not accept the message");
      return this.afterAccepted(email.operationId, error);
    }

    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
    try {
      await poller.pollUntilDone({ abortSignal: abort.signal });
      return { status: "Succeeded" };
    } catch (error) {
      if (abort.signal.aborted) return { status: "Running" };
      return this.afterAccepted(email.operationId, error);
    } finally {
      clearTimeout(timer);
    }
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
        // NotStarted / Running: the service still owns it.
        return { status: "Running" };
    }
  }

  /**
   * A send that threw after the POST went out. A failing status poll leaves the outcome open (Running: the service
   * has the message). A Failed status makes the poller throw a plain Error, so the structured error is read back;
   * an operation the service does not know was never accepted (e.g. the request could not be built).
   */
  private async afterAccepted(operationId: string, error: unknown): Promise<DeliveryResult> {
    if (isRestError(error)) return { status: "Running" };
    const reason = error instanceof Error ? error.message : String(error);
    let known: DeliveryResult | { status: "NotFound" };
    try {
      known = await this.lookup(operationId);
    } catch {
      // The poller's own message still says why.
      return { status: "Failed", error: reason };
    }
    if (known.status === "NotFound") throw new AuditError("EMAIL.SEND_FAILED", `The email service did not accept the message: ${reason}`);
    return known;
  }
}

/** A RestError from the POST itself (the message was not accepted), as opposed to one from a status poll. */
function isSendRequestError(error: unknown): boolean {
  if (!isRestError(error)) return false;
  const request = error.request;
  return request === undefined || request.method === "POST";
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
