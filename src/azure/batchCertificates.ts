// CertificateLister and PoolLister over the Batch management API (@azure/arm-batch 9.x, api-version 2023-11-01: the
// last SDK major with certificate operations, and a pool contract that still has `properties.certificates`; the
// 2025-06-01 contract dropped both, see the @azure/arm-batch 11.0.0 changelog "Pool no longer has parameter
// certificates"). Failures are classified so the report can say why an account was not read.
import type { BatchManagementClient, Certificate, Pool } from "@azure/arm-batch";
import type { FullOperationResponse } from "@azure/core-client";
import { isRestError } from "@azure/core-rest-pipeline";
import { AuditError, ensureError } from "../core/errors.js";
import type { AccountCertificate, BatchAccountInfo, PoolInfo } from "../core/model.js";
import type { CertificateLister, PoolLister, ReadOptions } from "../core/ports.js";
import { answerBody, type ArmListPage, DEFAULT_MAX_PAGES, PagingGuard, parseArmListPage, stoppedReason } from "./armAnswers.js";
import { WAIT_TOO_LONG } from "./retryWaitCap.js";
import { signInFailure } from "./signIn.js";
import type { SubscriptionPacer } from "./subscriptionPacer.js";
import { factsFromBatchProperties } from "./poolFacts.js";
import { certificateExpiry } from "./x509.js";

/** Error codes ARM answers with when an api-version no longer has the certificate API. */
const API_GONE = new Set(["noregisteredproviderfound", "invalidresourcetype", "invalidapiversionparameter", "invalidapiversion"]);

export class ArmBatchCertificates implements CertificateLister, PoolLister {
  /** Batch management calls made (one per page), for benchmarks. */
  calls = 0;

  /**
   * With a pacer (the same one the clients' pipelines use), a call starts only when its subscription can serve it,
   * so the caller need not bound concurrency itself (and should not: it would hold slots for throttled subscriptions).
   */
  constructor(
    private readonly clientFor: (subscriptionId: string) => BatchManagementClient,
    private readonly pacer?: SubscriptionPacer,
    /** Pages one account's list may have (MAX_PAGES_PER_SCOPE). */
    private readonly maxPages: number = DEFAULT_MAX_PAGES,
  ) {}

  listCertificates(account: BatchAccountInfo, options: ReadOptions = {}): Promise<AccountCertificate[]> {
    // A read the run has no time left for is not started (nor queued in the pacer).
    if (options.signal?.aborted) return Promise.reject(stoppedReason(options.signal));
    return this.pacer ? this.pacer.call(account.subscriptionId, () => this.read(account, options)) : this.read(account, options);
  }

  private read(account: BatchAccountInfo, { signal }: ReadOptions): Promise<AccountCertificate[]> {
    const client = this.clientFor(account.subscriptionId);
    return this.readList(
      account,
      "certificates",
      signal,
      (options) => client.certificateOperations.listByBatchAccount(account.resourceGroup, account.name, options),
      (cert) => toCertificate(cert, account),
      client.apiVersion,
    );
  }

  listPools(account: BatchAccountInfo, options: ReadOptions = {}): Promise<PoolInfo[]> {
    if (options.signal?.aborted) return Promise.reject(stoppedReason(options.signal));
    return this.pacer ? this.pacer.call(account.subscriptionId, () => this.readPools(account, options)) : this.readPools(account, options);
  }

  private readPools(account: BatchAccountInfo, { signal }: ReadOptions): Promise<PoolInfo[]> {
    const client = this.clientFor(account.subscriptionId);
    return this.readList(
      account,
      "pools",
      signal,
      (options) => client.poolOperations.listByBatchAccount(account.resourceGroup, account.name, options),
      // The wire body, not the SDK's model (parsedBody is deserialized, `properties` flattened away): the migration
      // kit rebuilds the pool in the REST shape.
      (pool, wire) => toPool(pool, account, wire(pool.id)),
      client.apiVersion,
    );
  }

  /**
   * Every page of one of the account's lists, each answer checked before it is believed (the SDK reads a 200 without
   * `value`, or an HTML page, as an empty page), the paging guarded against loops and too many pages, and items merged
   * by id (a page the service repeats must not make a certificate or pool, and its finding, appear twice).
   */
  private async readList<T, R extends { id: string }>(
    account: BatchAccountInfo,
    what: "certificates" | "pools",
    signal: AbortSignal | undefined,
    list: (options: { abortSignal?: AbortSignal; onResponse: (response: FullOperationResponse) => void }) => { byPage(): AsyncIterableIterator<T[]> },
    /** `wire(id)`: the item as the answer's JSON holds it (read only when asked: the pools' configuration). */
    convert: (item: T, wire: (id: string | undefined) => WireItem | undefined) => R,
    /** The api-version the client sends, to tell its refusal as retired from other refusals. */
    apiVersion: string,
  ): Promise<R[]> {
    const label = `Batch account ${account.name}: the ${what === "certificates" ? "certificate" : "pool"} list`;
    const guard = new PagingGuard(label, this.maxPages);
    const items = new Map<string, R>();
    let raw: FullOperationResponse | undefined;
    try {
      if (signal?.aborted) throw stoppedReason(signal);
      const pages = list({ ...(signal ? { abortSignal: signal } : {}), onResponse: (response) => (raw = response) }).byPage();
      for (;;) {
        this.calls++;
        raw = undefined;
        const page = await pages.next();
        if (page.done) break;
        const checked = parseArmListPage(answerBody(raw), label);
        guard.page(checked.nextLink, "nextLink");
        const text = (raw as FullOperationResponse | undefined)?.bodyAsText ?? undefined;
        let wireById: Map<string, WireItem> | undefined;
        const wire = (id: string | undefined) => (id === undefined ? undefined : (wireById ??= wireItems(text)).get(id.toLowerCase()));
        for (const item of page.value) {
          const converted = convert(item, wire);
          const key = converted.id.toLowerCase();
          if (!items.has(key)) items.set(key, converted);
        }
      }
    } catch (error) {
      throw classify(error, account, signal, what, apiVersion);
    }
    return [...items.values()];
  }
}

type WireItem = ArmListPage["value"][number];

function toPool(pool: Pool, account: BatchAccountInfo, wire?: WireItem): PoolInfo {
  const name = pool.name ?? pool.id?.split("/").pop() ?? "";
  const configuration = poolConfiguration(wire);
  // From the wire `properties` (this api-version's contract has every property the rules read).
  const facts = factsFromBatchProperties(wire?.properties as Record<string, unknown> | undefined);
  if (!name) throw new AuditError("BATCH.REQUEST_FAILED", `Batch account ${account.name}: the pool list returned a pool with no name or id`);
  return {
    id: pool.id ?? `${account.id}/pools/${name}`,
    name,
    accountId: account.id,
    accountName: account.name,
    subscriptionId: account.subscriptionId,
    resourceGroup: account.resourceGroup,
    // At this api-version the contract has `certificates`: a pool without the key references none.
    certificateReferences: (pool.certificates ?? []).map((ref) => ({
      id: ref.id,
      ...(ref.storeLocation ? { storeLocation: ref.storeLocation } : {}),
      ...(ref.storeName ? { storeName: ref.storeName } : {}),
      ...(ref.visibility ? { visibility: [...ref.visibility] } : {}),
    })),
    ...(configuration ? { configuration } : {}),
    ...(facts ? { facts } : {}),
  };
}

function wireItems(text: string | undefined): Map<string, ArmListPage["value"][number]> {
  const items = new Map<string, ArmListPage["value"][number]>();
  if (!text) return items;
  try {
    const body = JSON.parse(text) as { value?: unknown };
    for (const item of Array.isArray(body.value) ? body.value : []) {
      if (item && typeof item === "object" && typeof (item as { id?: unknown }).id === "string") {
        items.set((item as { id: string }).id.toLowerCase(), item as ArmListPage["value"][number]);
      }
    }
  } catch {
    // Not JSON: parseArmListPage has already refused the page.
  }
  return items;
}

/** The pool's wire `properties` and `identity`, as plain JSON (a copy: nothing shared with the SDK's objects). */
function poolConfiguration(wire: ArmListPage["value"][number] | undefined): PoolInfo["configuration"] {
  if (!wire?.properties) return undefined;
  const identity = (wire as Record<string, unknown>).identity;
  return {
    properties: JSON.parse(JSON.stringify(wire.properties)) as Record<string, unknown>,
    ...(identity && typeof identity === "object" ? { identity: JSON.parse(JSON.stringify(identity)) as Record<string, unknown> } : {}),
  };
}

function toCertificate(cert: Certificate, account: BatchAccountInfo): AccountCertificate {
  const name = cert.name ?? `${cert.thumbprintAlgorithm ?? "sha1"}-${cert.thumbprint ?? "unknown"}`;
  const expiresOn = certificateExpiry(cert.publicData);
  return {
    id: cert.id ?? `${account.id}/certificates/${name}`,
    name,
    accountId: account.id,
    thumbprint: cert.thumbprint ?? name.split("-").slice(1).join("-"),
    thumbprintAlgorithm: cert.thumbprintAlgorithm ?? name.split("-")[0] ?? "sha1",
    ...(cert.format ? { format: cert.format } : {}),
    ...(cert.provisioningState ? { provisioningState: cert.provisioningState } : {}),
    ...(cert.provisioningStateTransitionTime ? { provisioningStateTransitionTime: toIso(cert.provisioningStateTransitionTime) } : {}),
    ...(cert.deleteCertificateError
      ? {
          deleteCertificateError: {
            code: cert.deleteCertificateError.code,
            message: cert.deleteCertificateError.message,
            ...(cert.deleteCertificateError.details
              ? {
                  details: cert.deleteCertificateError.details.map((d) => ({
                    code: d.code,
                    message: d.message,
                    ...(d.target ? { target: d.target } : {}),
                  })),
                }
              : {}),
          },
        }
      : {}),
    ...(expiresOn ? { expiresOn } : {}),
  };
}

function toIso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * ARM's answer to an api-version a resource type no longer has: 400 `NoRegisteredProviderFound`, "No registered resource
 * provider found for location '…' and API version '…' for type '…'. The supported api-versions are '…'" (as quoted in
 * Azure/azure-cli#28496 and pulumi/pulumi-azure-native#584), or 400 `InvalidApiVersionParameter`, "The api-version '…'
 * is invalid. The supported versions are '…'". Either naming the version the client sent means that version is gone
 * for every account, not that this one account is unreadable.
 */
const RETIRED_VERSION_CODES = new Set(["noregisteredproviderfound", "invalidapiversionparameter"]);

export function classify(error: unknown, account: BatchAccountInfo, signal?: AbortSignal, what: "certificates" | "pools" = "certificates", apiVersion?: string): AuditError {
  const where = `Batch account ${account.name}`;
  if (error instanceof AuditError) return error;
  if (signal?.aborted) return stoppedReason(signal);
  const signIn = signInFailure(error);
  if (signIn) return signIn;
  if (!isRestError(error)) {
    return new AuditError("BATCH.REQUEST_FAILED", `${where}: ${what} could not be listed: ${ensureError(error).message}`, { retryable: true, cause: error });
  }
  const status = error.statusCode;
  const code = String(error.code ?? "");
  const detail = `${code ? `${code}: ` : ""}${error.message}`;
  if (status === 403 || status === 401) {
    return new AuditError("BATCH.FORBIDDEN", `HTTP ${status} ${detail} (the identity needs Reader on ${account.id})`, { statusCode: status, cause: error });
  }
  if (status === 400 && apiVersion !== undefined && RETIRED_VERSION_CODES.has(code.toLowerCase()) && error.message.includes(`'${apiVersion}'`)) {
    return new AuditError("BATCH.API_RETIRED", `HTTP 400 ${detail}`, { statusCode: status, cause: error });
  }
  if ((status === 400 || status === 404) && API_GONE.has(code.toLowerCase())) {
    return new AuditError("BATCH.API_UNAVAILABLE", `HTTP ${status} ${detail}: the ${what === "certificates" ? "certificate" : "pool"} API is not available here, so the account's ${what} are unknown`, {
      statusCode: status,
      cause: error,
    });
  }
  if (status === 404) {
    return new AuditError("BATCH.NOT_FOUND", `HTTP 404 ${detail} (the account was deleted after the inventory, or is not visible)`, { statusCode: status, cause: error });
  }
  if (code === WAIT_TOO_LONG) return new AuditError("BATCH.REQUEST_FAILED", `HTTP ${status ?? 429} ${error.message}`, { statusCode: status, retryable: true, cause: error });
  const retryable = status === undefined || status === 429 || status >= 500;
  return new AuditError("BATCH.REQUEST_FAILED", `HTTP ${status ?? "error"} ${detail}${retryable ? " (after retries)" : ""}`, { statusCode: status, retryable, cause: error });
}
