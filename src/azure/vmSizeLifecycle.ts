// VmSizeLifecycleReader over Batch management's Location_ListSupportedVirtualMachineSkus
// (GET /subscriptions/{subscriptionId}/providers/Microsoft.Batch/locations/{locationName}/virtualMachineSkus;
// azure-rest-api-specs, specification/batch/resource-manager/Microsoft.Batch/stable/2025-06-01/BatchManagement.json,
// example LocationListVirtualMachineSkus.json): each SupportedSku may carry `batchSupportEndOfLife`, a date-time, the
// day Batch stops supporting the size in that region.
//
// Read with @azure/arm-batch 9.1.0 (the version the certificate read needs, see batchCertificates.ts) at api-version
// 2025-06-01: 9.1.0's own version (2023-11-01) predates `batchSupportEndOfLife` (added to SupportedSku in 2024-02-01)
// and its SupportedSku model has no such field, so the answer is read from the wire, checked, not from the model.
// 2025-06-01 is the version that outlives the retirement of older api-versions (Azure/Batch#140).
import type { BatchManagementClient } from "@azure/arm-batch";
import type { FullOperationResponse } from "@azure/core-client";
import { isRestError } from "@azure/core-rest-pipeline";
import { AuditError, ensureError } from "../core/errors.js";
import type { ReadOptions, VmSizeLifecycleReader } from "../core/ports.js";
import { answerBody, DEFAULT_MAX_PAGES, PagingGuard, parseSupportedSkuPage, stoppedReason } from "./armAnswers.js";
import { signInFailure } from "./signIn.js";

export const VM_SKUS_API_VERSION = "2025-06-01";

export class ArmVmSizeLifecycle implements VmSizeLifecycleReader {
  /** Pages read (one call each), for benchmarks. */
  calls = 0;

  constructor(
    /** A client at VM_SKUS_API_VERSION (clients.ts, batchClientAtVersion). */
    private readonly clientFor: (subscriptionId: string) => BatchManagementClient,
    private readonly maxPages: number = DEFAULT_MAX_PAGES,
  ) {}

  async readEndOfLife(subscriptionId: string, location: string, { signal }: ReadOptions = {}): Promise<Map<string, string>> {
    const label = `Batch's supported VM sizes in ${location}`;
    if (signal?.aborted) throw stoppedReason(signal);
    const guard = new PagingGuard(label, this.maxPages);
    const endOfLife = new Map<string, string>();
    let raw: FullOperationResponse | undefined;
    try {
      const client = this.clientFor(subscriptionId);
      const pages = client.location
        .listSupportedVirtualMachineSkus(location, { ...(signal ? { abortSignal: signal } : {}), onResponse: (response) => (raw = response) })
        .byPage();
      for (;;) {
        raw = undefined;
        const page = await pages.next();
        if (page.done) break;
        this.calls++;
        const checked = parseSupportedSkuPage(answerBody(raw), label);
        guard.page(checked.nextLink, "nextLink");
        for (const sku of checked.value) {
          const day = isoDay(sku.batchSupportEndOfLife);
          if (day) endOfLife.set(sku.name.toLowerCase(), day);
        }
      }
    } catch (error) {
      throw failure(error, label, signal);
    }
    return endOfLife;
  }
}

/** YYYY-MM-DD of a date-time as Azure writes it (`2024-08-31T00:00:00Z`); undefined when absent or not a date. */
function isoDay(value: string | null | undefined): string | undefined {
  const day = /^(\d{4}-\d{2}-\d{2})(?:[T ]|$)/.exec(value ?? "")?.[1];
  return day !== undefined && !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ? day : undefined;
}

function failure(error: unknown, label: string, signal: AbortSignal | undefined): AuditError {
  if (error instanceof AuditError) return error;
  if (signal?.aborted) return stoppedReason(signal);
  const signIn = signInFailure(error);
  if (signIn) return signIn;
  if (!isRestError(error)) return new AuditError("BATCH.REQUEST_FAILED", `${label} could not be read: ${ensureError(error).message}`, { retryable: true, cause: error });
  const status = error.statusCode;
  const code = error.code ? `${error.code}: ` : "";
  return new AuditError(status === 403 || status === 401 ? "BATCH.FORBIDDEN" : "BATCH.REQUEST_FAILED", `${label} could not be read: HTTP ${status ?? "error"} ${code}${error.message}`, {
    ...(status === undefined ? {} : { statusCode: status }),
    cause: error,
  });
}
