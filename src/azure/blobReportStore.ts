// Reports and run status in Blob storage: runs/<runId>/{status.json,report.json,report.csv,report.html}, and
// latest/report.json for the HTTP API.
import { RestError } from "@azure/core-rest-pipeline";
import type { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { AuditError, ensureError } from "../core/errors.js";
import type { AuditReport, OutboxBacklog } from "../core/model.js";

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
   * The run's report in each format. Formats are produced one at a time, each uploaded and dropped before the next
   * is made, so at scale the three (about 19 + 19 + 6 MB at 10,000 accounts) are never held at once.
   */
  async saveReport(runId: string, report: AuditReport, formats: { csv?: () => string; html?: () => string } = {}): Promise<void> {
    if (formats.csv) await this.put(`runs/${runId}/report.csv`, formats.csv(), "text/csv; charset=utf-8");
    if (formats.html) await this.put(`runs/${runId}/report.html`, formats.html(), "text/html; charset=utf-8");
    // The JSON is made once, for the run and for "latest"; "latest" is written last, so it never points at a run whose
    // files are missing.
    const json = JSON.stringify(report, null, 2);
    await this.put(`runs/${runId}/report.json`, json, "application/json");
    await this.put("latest/report.json", json, "application/json");
  }

  async latestReport(): Promise<AuditReport | undefined> {
    const text = await this.get("latest/report.json");
    return text === undefined ? undefined : (JSON.parse(text) as AuditReport);
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
