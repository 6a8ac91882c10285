// Reports and run status in Blob storage: runs/<runId>/{status.json,report.json,report.csv,report.html}, and
// latest/report.json for the HTTP API (its metadata names the run's csv and html, see saveReport).
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { RestError } from "@azure/core-rest-pipeline";
import type { BlobServiceClient, BlockBlobClient, ContainerClient } from "@azure/storage-blob";
import { AuditError, ensureError } from "../core/errors.js";
import type { AuditReport, OutboxBacklog } from "../core/model.js";
import { gzipBlocks, jsonChunks } from "../report/textChunks.js";

/** A report format as pieces of text, made when it is written (see saveReport). */
export interface ReportText {
  json(): Iterable<string>;
  csv(): Iterable<string>;
  html(): Iterable<string>;
  /**
   * What made the csv and html (e.g. the page's Content-Security-Policy hashes): kept with "latest", and latestFormat
   * serves a file only to a caller that makes the same (a page from an earlier build would break under today's CSP).
   */
  versions?: Partial<Record<StoredFormat, string>>;
}

/**
 * Block size for streamed uploads, in compressed bytes: a 49 MB report (10,000 accounts) is about 5 MB compressed,
 * 5 blocks of the 50,000 a blob may have (Learn "Understanding block blobs": up to 50,000 blocks of up to 4,000 MiB).
 * Two are in flight.
 */
const STREAM_BLOCK_BYTES = 1024 * 1024;
/**
 * The reports are stored gzip-compressed, with `Content-Encoding: gzip` (Blob `x-ms-blob-content-encoding`, sent back
 * as `Content-Encoding` on every read). Most of a report is migration kits' scripts and pool bodies, which compress
 * about tenfold: at 100,000 accounts the job wrote hundreds of MB of text to Blob storage (the JSON twice), and the
 * writes were most of its report stage.
 */
export const STORED_ENCODING = "gzip";
const gunzipAsync = promisify(gunzip);

export type RunState = "running" | "succeeded" | "failed";

/** A blob putStreams writes: its name, content type and (committed with it) metadata. */
interface StreamTarget {
  name: string;
  contentType: string;
  metadata?: Record<string, string>;
}

export interface RunStatus {
  runId: string;
  state: RunState;
  trigger: "timer" | "http" | "cli";
  sendMode: "dry-run" | "redirect" | "live";
  /** `send-only`: a sending run (SEND_SCHEDULE, --send-only) that drains the latest audit's outbox; absent: an audit. */
  kind?: "send-only";
  startedAt: string;
  finishedAt?: string;
  progress: { phase: string; done: number; total: number };
  counts?: { findings: number; critical: number; warning: number; sent: number; failedScopes: number };
  coverageComplete?: boolean;
  /** What is left to send and when it will have gone (a sending run's; an audit's is in its report). */
  backlog?: OutboxBacklog;
  errors: string[];
}

/** A format the run stored beside its JSON, served as it is (GET /api/audit/report without a filter). */
export type StoredFormat = "csv" | "html";

/** The stored text of the latest run's csv or html, with what the answer's headers need. */
export interface LatestFormat {
  text: string;
  runId: string;
  asOf: string;
}

/**
 * Metadata on latest/report.json (Blob metadata names are case-insensitive and come back lower-case): the run it is
 * from, its day, and the ETag each of the run's csv and html blobs had when that run wrote them.
 */
const LATEST_META = {
  runId: "runid",
  asOf: "asof",
  etag: { csv: "csvetag", html: "htmletag" },
  version: { csv: "csvversion", html: "htmlversion" },
} as const;
const RUN_ID = /^[A-Za-z0-9._-]{1,200}$/;

export class BlobReportStore {
  private readonly container: ContainerClient;
  private ready: Promise<unknown> | undefined;

  constructor(blobs: BlobServiceClient, containerName: string) {
    this.container = blobs.getContainerClient(containerName);
  }

  async saveStatus(status: RunStatus): Promise<void> {
    await this.put(`runs/${status.runId}/status.json`, JSON.stringify(status, null, 2), "application/json");
  }

  async status(runId: string): Promise<RunStatus | undefined> {
    const name = `runs/${runId}/status.json`;
    const text = await this.get(name);
    return text === undefined ? undefined : storedObject<RunStatus>(name, text, "runId", "the run's status cannot be shown");
  }

  /**
   * The run's report in each format. Each is uploaded while it is made (a stream of blocks), one after the other, so
   * at scale none of them (about 49 + 17 + 3 MB of text at 10,000 accounts) is ever held whole. A format that fails half way
   * leaves its blob as it was: blocks are committed only at the end. The JSON is made twice, for the run and for
   * "latest" (a server-side copy would need the source authorized separately under Entra ID sign-in); "latest" is
   * written last, so it never points at a run whose files are missing.
   *
   * Only the JSON is copied to "latest"; the csv and html stay in the run's folder, and "latest"'s metadata names
   * them: the run id, the day, the ETag each had when this call wrote it, and its version (ReportText.versions). The metadata is committed with the
   * JSON's last block, so it always describes the JSON beside it; the ETags make latestFormat refuse a csv or html
   * written afterwards under the same run id (a retried save that failed after its csv) that the JSON does not match.
   */
  async saveReport(runId: string, report: AuditReport, formats: Partial<ReportText> = {}): Promise<void> {
    const json = formats.json ?? (() => jsonChunks(report));
    const metadata: Record<string, string> = { [LATEST_META.runId]: runId, [LATEST_META.asOf]: report.asOf };
    if (formats.csv) metadata[LATEST_META.etag.csv] = await this.putStream(`runs/${runId}/report.csv`, formats.csv, "text/csv; charset=utf-8");
    if (formats.html) metadata[LATEST_META.etag.html] = await this.putStream(`runs/${runId}/report.html`, formats.html, "text/html; charset=utf-8");
    for (const format of ["csv", "html"] as const) {
      const version = formats.versions?.[format];
      if (version !== undefined && formats[format]) metadata[LATEST_META.version[format]] = version;
    }
    // One pass over the JSON stages its blocks in both blobs; the run's is committed first, then "latest".
    await this.putStreams(json, [
      { name: `runs/${runId}/report.json`, contentType: "application/json" },
      { name: "latest/report.json", contentType: "application/json", metadata },
    ]);
  }

  /**
   * The latest run's stored csv or html as it was written, without reading or parsing latest/report.json: a HEAD of
   * "latest" for its metadata, then one GET of the run's file on condition that its ETag is still the one "latest"
   * recorded. Undefined when there is nothing to serve that way (no report; "latest" from a build that wrote no such
   * metadata; the run stored no such format, or made it otherwise than `version`; the file is gone or was rewritten
   * since): the caller renders from the JSON instead. A new run that moves "latest" between the two requests is not mixed in: the file is the one of the
   * run whose metadata was read.
   */
  async latestFormat(format: StoredFormat, version?: string): Promise<LatestFormat | undefined> {
    const metadata = await this.metadata("latest/report.json");
    const runId = metadata?.[LATEST_META.runId];
    const asOf = metadata?.[LATEST_META.asOf];
    const etag = metadata?.[LATEST_META.etag[format]];
    if (!runId || !RUN_ID.test(runId) || !asOf || !etag) return undefined;
    if (version !== undefined && metadata[LATEST_META.version[format]] !== version) return undefined;
    const text = await this.get(`runs/${runId}/report.${format}`, etag);
    return text === undefined ? undefined : { text, runId, asOf };
  }

  async latestReport(): Promise<AuditReport | undefined> {
    const text = await this.get("latest/report.json");
    return text === undefined ? undefined : storedObject<AuditReport>("latest/report.json", text, "schemaVersion", "the next audit writes it again");
  }

  /** Uploads text as it is made: blocks of `STREAM_BLOCK_BYTES`, two in flight. Answers the blob's new ETag. */
  private async putStream(name: string, pieces: () => Iterable<string>, contentType: string): Promise<string> {
    const [etag] = await this.putStreams(pieces, [{ name, contentType }]);
    return etag as string;
  }

  /**
   * Uploads the same text, made once, to each target: every block (`STREAM_BLOCK_BYTES`, two in flight) is staged in
   * every target as it is made, and the targets are committed in the order given, each with its headers and
   * metadata, once the whole text is staged. Until its commit a blob is as it was. Answers the new ETags.
   */
  private async putStreams(pieces: () => Iterable<string>, targets: readonly StreamTarget[]): Promise<string[]> {
    // An error while making the text is the maker's (a bug, not an outage): it is thrown as it is.
    let makerError: { error: unknown } | undefined;
    const made = function* () {
      try {
        yield* pieces();
      } catch (error) {
        makerError = { error };
        throw error;
      }
    };
    let writing = targets.map((t) => t.name).join(" and ");
    try {
      this.ready ??= this.container.createIfNotExists();
      await this.ready;
      const clients = targets.map((t) => this.container.getBlockBlobClient(t.name));
      const blockIds: string[] = [];
      // The text is made as the compressor reads it (so never held whole), compressed off the main thread, and each
      // block is staged in every target (two blocks at a time). A failure anywhere (the maker, the compressor, a
      // staged block) ends it all, the maker's generator too.
      await gzipBlocks(made(), STREAM_BLOCK_BYTES, (block) => {
        const id = Buffer.from(String(blockIds.length).padStart(8, "0")).toString("base64");
        blockIds.push(id);
        return Promise.all(clients.map((c) => c.stageBlock(id, block, block.length)));
      });
      const etags: string[] = [];
      for (const [i, target] of targets.entries()) {
        writing = target.name;
        const committed = await (clients[i] as BlockBlobClient).commitBlockList(blockIds, {
          blobHTTPHeaders: { blobContentType: target.contentType, blobContentEncoding: STORED_ENCODING },
          ...(target.metadata ? { metadata: target.metadata } : {}),
        });
        if (!committed.etag) throw new Error("the service answered the upload without an ETag");
        etags.push(committed.etag);
      }
      return etags;
    } catch (error) {
      if (makerError) throw makerError.error;
      this.ready = undefined;
      throw new AuditError("LEDGER.UNAVAILABLE", `Cannot write ${writing} to Blob storage: ${ensureError(error).message}`, { retryable: true, cause: error });
    }
  }

  private async put(name: string, content: string, contentType: string): Promise<void> {
    try {
      this.ready ??= this.container.createIfNotExists();
      await this.ready;
      await this.container.getBlockBlobClient(name).upload(content, Buffer.byteLength(content), { blobHTTPHeaders: { blobContentType: contentType } });
    } catch (error) {
      this.ready = undefined;
      throw new AuditError("LEDGER.UNAVAILABLE", `Cannot write ${name} to Blob storage: ${ensureError(error).message}`, { retryable: true, cause: error });
    }
  }

  /** The blob's metadata (one HEAD), or undefined when there is no such blob. */
  private async metadata(name: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.container.getBlockBlobClient(name).getProperties()).metadata ?? {};
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw new AuditError("LEDGER.UNAVAILABLE", `Cannot read ${name} from Blob storage: ${ensureError(error).message}`, { retryable: true, cause: error });
    }
  }

  /** The blob's text; undefined when there is none, or (with `ifMatch`) when its ETag is no longer that one (412). */
  private async get(name: string, ifMatch?: string): Promise<string | undefined> {
    let body: Buffer;
    let encoding: string | undefined;
    try {
      // One GET (download), not downloadToBuffer: that reads the size first and then ranges, so a status written
      // between the two (a run saves its progress while it is being read) came back as a mix of both.
      const response = await this.container.getBlockBlobClient(name).download(0, undefined, ifMatch ? { conditions: { ifMatch } } : {});
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      body = Buffer.concat(chunks);
      encoding = response.contentEncoding?.toLowerCase();
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 404 || (ifMatch !== undefined && error.statusCode === 412))) return undefined;
      throw new AuditError("LEDGER.UNAVAILABLE", `Cannot read ${name} from Blob storage: ${ensureError(error).message}`, { retryable: true, cause: error });
    }
    // Reports are stored compressed (STORED_ENCODING); status files, and reports an earlier build wrote, are not.
    if (encoding !== STORED_ENCODING) return body.toString("utf8");
    try {
      return (await gunzipAsync(body)).toString("utf8");
    } catch (error) {
      // The bytes came back whole but are not what they say: reading them again will not help; the next run rewrites them.
      throw new AuditError("INTERNAL", `${name} in Blob storage says it is gzip-compressed but cannot be decompressed (${ensureError(error).message}); the next run writes it again`, {
        retryable: false,
        cause: error,
      });
    }
  }
}

/**
 * A stored JSON file as the object it must be (one with `key`): bytes that came back whole but are not that (cut
 * short, overwritten by hand) are named as such, with what follows (`then`), and not retried, instead of a bare JSON
 * parse error or an object every reader would trip over.
 */
function storedObject<T>(name: string, text: string, key: string, then: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AuditError("INTERNAL", `${name} in Blob storage is not JSON (${ensureError(error).message}); ${then}`, { retryable: false, cause: error });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || !(key in parsed)) {
    throw new AuditError("INTERNAL", `${name} in Blob storage is JSON but not what it should be (no "${key}"); ${then}`, { retryable: false });
  }
  return parsed as T;
}
