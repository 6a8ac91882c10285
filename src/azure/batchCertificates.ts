// CertificateLister and PoolLister over the Batch management API (@azure/arm-batch 9.x, api-version 2023-11-01: the
// last SDK major with certificate operations, and a pool contract that still has `properties.certificates`; the
// 2025-06-01 contract dropped both, see the @azure/arm-batch 11.0.0 changelog "Pool no longer has parameter
// certificates"). Failures are classified so the report can say why an account was not read.
import type { BatchManagementClient, Certificate, Pool } from "@azure/arm-batch";
import { isRestError } from "@azure/core-rest-pipeline";
import { AuditError, ensureError, isAuditError } from "../core/errors.js";
import { signInFailure } from "./signIn.js";
import type { AccountCertificate, BatchAccountInfo, PoolInfo } from "../core/model.js";
import type { CertificateLister, PoolLister } from "../core/ports.js";
import type { SubscriptionPacer } from "./subscriptionPacer.js";
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
  ) {}

  listCertificates(account: BatchAccountInfo): Promise<AccountCertificate[]> {
    return this.pacer ? this.pacer.call(account.subscriptionId, () => this.read(account)) : this.read(account);
  }

  private async read(account: BatchAccountInfo): Promise<AccountCertificate[]> {
    const client = this.clientFor(account.subscriptionId);
    const certificates: AccountCertificate[] = [];
    try {
      const pages = client.certificateOperations.listByBatchAccount(account.resourceGroup, account.name).byPage();
      for (;;) {
        this.calls++;
        const page = await pages.next();
        if (page.done) break;
        for (const cert of page.value) certificates.push(toCertificate(cert, account));
      }
    } catch (error) {
      throw classify(error, account);
    }
    return certificates;
  }

  listPools(account: BatchAccountInfo): Promise<PoolInfo[]> {
    return this.pacer ? this.pacer.call(account.subscriptionId, () => this.readPools(account)) : this.readPools(account);
  }

  private async readPools(account: BatchAccountInfo): Promise<PoolInfo[]> {
    const client = this.clientFor(account.subscriptionId);
    const pools: PoolInfo[] = [];
    try {
      const pages = client.poolOperations.listByBatchAccount(account.resourceGroup, account.name).byPage();
      for (;;) {
        this.calls++;
        const page = await pages.next();
        if (page.done) break;
        for (const pool of page.value) pools.push(toPool(pool, account));
      }
    } catch (error) {
      throw classify(error, account, "pools");
    }
    return pools;
  }
}

function toPool(pool: Pool, account: BatchAccountInfo): PoolInfo {
  const name = pool.name ?? pool.id?.split("/").pop() ?? "";
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

export function classify(error: unknown, account: BatchAccountInfo, what: "certificates" | "pools" = "certificates"): AuditError {
  const where = `Batch account ${account.name}`;
  if (isAuditError(error)) return error;
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
  if ((status === 400 || status === 404) && API_GONE.has(code.toLowerCase())) {
    return new AuditError("BATCH.API_UNAVAILABLE", `HTTP ${status} ${detail}: the ${what === "certificates" ? "certificate" : "pool"} API is not available here, so the account's ${what} are unknown`, {
      statusCode: status,
      cause: error,
    });
  }
  if (status === 404) {
    return new AuditError("BATCH.NOT_FOUND", `HTTP 404 ${detail} (the account was deleted after the inventory, or is not visible)`, { statusCode: status, cause: error });
  }
  const retryable = status === undefined || status === 429 || status >= 500;
  return new AuditError("BATCH.REQUEST_FAILED", `HTTP ${status ?? "error"} ${detail}${retryable ? " (after retries)" : ""}`, { statusCode: status, retryable, cause: error });
}
