// One run at a time: a blob lease. The holder writes its run id into the blob so that a second caller can say
// which run is active. The lease is renewed while the run goes on and expires by itself if the process dies.
import type { BlobServiceClient } from "@azure/storage-blob";
import { RestError } from "@azure/core-rest-pipeline";
import { AuditError, ensureError } from "../core/errors.js";
import type { RunLock, RunLockHandle, RunLockHeld } from "../core/ports.js";

/** The lease a run holds and renews; a run that dies without releasing it loses it at most this long after. */
const LEASE_SECONDS = 60;

export class BlobRunLock implements RunLock {
  constructor(
    private readonly blobs: BlobServiceClient,
    private readonly container: string,
    private readonly blobName = "locks/audit-run",
  ) {}

  async acquire(runId: string): Promise<RunLockHandle | RunLockHeld> {
    const containerClient = this.blobs.getContainerClient(this.container);
    try {
      await containerClient.createIfNotExists();
      const blob = containerClient.getBlockBlobClient(this.blobName);
      if (!(await blob.exists())) {
        await blob.upload("", 0, { conditions: { ifNoneMatch: "*" } }).catch((e: unknown) => {
          if (!(e instanceof RestError && (e.statusCode === 409 || e.statusCode === 412))) throw e;
        });
      }
      const lease = blob.getBlobLeaseClient();
      try {
        await lease.acquireLease(LEASE_SECONDS);
      } catch (e) {
        if (e instanceof RestError && e.statusCode === 409) {
          // The holder wrote its run id once, right after taking the lease (renewals do not touch the blob), so the
          // blob's last-modified time is when that run took the lock.
          const held = await blob.download().catch(() => undefined);
          const body = held?.readableStreamBody ? await streamToString(held.readableStreamBody).catch(() => "") : "";
          return {
            heldBy: body || "unknown",
            ...(body && held?.lastModified ? { since: held.lastModified.toISOString() } : {}),
            freesWithinSeconds: LEASE_SECONDS,
          };
        }
        throw e;
      }
      await blob.upload(runId, Buffer.byteLength(runId), { conditions: { leaseId: lease.leaseId } });
      let held = true;
      let renewedAt = Date.now();
      const timer = setInterval(() => {
        lease.renewLease().then(
          () => (renewedAt = Date.now()),
          () => {
            // One failed renewal is survivable while the lease still runs; past its end another run may hold it.
            if (Date.now() - renewedAt >= LEASE_SECONDS * 1000 * 0.8) held = false;
          },
        );
      }, (LEASE_SECONDS * 1000) / 3);
      timer.unref();
      return {
        held: () => held && Date.now() - renewedAt < LEASE_SECONDS * 1000,
        release: async () => {
          clearInterval(timer);
          await lease.releaseLease().catch(() => undefined);
        },
      };
    } catch (error) {
      throw new AuditError("LEDGER.UNAVAILABLE", `Cannot take the run lock in storage: ${ensureError(error).message}`, { retryable: true, cause: error });
    }
  }

  /** The run holding the lock, if any (for the HTTP API). */
  async activeRun(): Promise<string | undefined> {
    const blob = this.blobs.getContainerClient(this.container).getBlockBlobClient(this.blobName);
    try {
      const props = await blob.getProperties();
      if (props.leaseState !== "leased") return undefined;
      return (await blob.downloadToBuffer()).toString("utf8") || undefined;
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return undefined;
      throw e;
    }
  }
}

function streamToString(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.on("error", reject);
  });
}
