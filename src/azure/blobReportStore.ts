// Reports and run status in Blob storage: runs/<runId>/{status.json,report.json,report.csv,report.html}, and
// latest/report.json for the HTTP API.
import { RestError } from "@azure/core-rest-pipeline";
import type { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { AuditError, ensureError } from "../core/errors.js";
import type { AuditReport, OutboxBacklog } from "../core/model.js";
import { jsonChunks, textStream } from "../report/textChunks.js";

/** A report format as pieces of text, made when it is written (see saveReport). */
export interface ReportText {
  json(): Iterable<string>;
  csv(): Iterable<string>;
  html(): Iterable<string>;
}

/** Block size for streamed uploads: 1 MiB blocks: a 19 MB report is 19 blocks (of the 50,000 a blob may have), two in flight. */
const STREAM_BLOCK_BYTES = 1024 * 1024;

export type RunState = "running" | "succeeded" | "failed";

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
    const text = await this.get(`runs/${runId}/status.json`);
    return text === undefined ? undefined : (JSON.parse(text) as RunStatus);
  }

  /**
   * The run's report in each format. Each is uploaded while it is made (a stream of blocks), one after the other, so
   * at scale none of them (about 19 + 19 + 6 MB at 10,000 accounts) is ever held whole. A format that fails half way
   * leaves its blob as it was: blocks are committed only at the end. The JSON is made twice, for the run and for
   * "latest" (a server-side copy would need the source authorized separately under Entra ID sign-in); "latest" is
   * written last, so it never points at a run whose files are missing.
   */
  async saveReport(runId: string, report: AuditReport, formats: Partial<ReportText> = {}): Promise<void> {
    const json = formats.json ?? (() => jsonChunks(report));
    if (formats.csv) await this.putStream(`runs/${runId}/report.csv`, formats.csv, "text/csv; charset=utf-8");
    if (formats.html) await this.putStream(`runs/${runId}/report.html`, formats.html, "text/html; charset=utf-8");
    await this.putStream(`runs/${runId}/report.json`, json, "application/json");
    await this.putStream("latest/report.json", json, "application/json");
  }

  async latestReport(): Promise<AuditReport | undefined> {
    const text = await this.get("latest/report.json");
    return text === undefined ? undefined : (JSON.parse(text) as AuditReport);
  }

  /** Uploads text as it is made: blocks of `STREAM_BLOCK_BYTES`, two in flight. */
  private async putStream(name: string, pieces: () => Iterable<string>, contentType: string): Promise<void> {
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
    try {
      this.ready ??= this.container.createIfNotExists();
      await this.ready;
      await this.container
        .getBlockBlobClient(name)
        .uploadStream(textStream(made()), STREAM_BLOCK_BYTES, 2, { blobHTTPHeaders: { blobContentType: contentType } });
    } catch (error) {
      if (makerError) throw makerError.error;
      this.ready = undefined;
      throw new AuditError("LEDGER.UNAVAILABLE", `Cannot write ${name} to Blob storage: ${ensureError(error).message}`, { retryable: true, cause: error });
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

  private async get(name: string): Promise<string | undefined> {
    try {
      // One GET (download), not downloadToBuffer: that reads the size first and then ranges, so a status written
      // between the two (a run saves its progress while it is being read) came back as a mix of both.
      const response = await this.container.getBlockBlobClient(name).download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      return Buffer.concat(chunks).toString("utf8");
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw new AuditError("LEDGER.UNAVAILABLE", `Cannot read ${name} from Blob storage: ${ensureError(error).message}`, { retryable: true, cause: error });
    }
  }
}
