// Reports are uploaded to Blob storage while they are made (block by block): what lands is the whole text, a format
// that fails half way leaves the blob it would have replaced, and "latest" moves only when every file of the run is in.
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { RestError } from "@azure/core-rest-pipeline";
import { BlobServiceClient, type BlockBlobClient, type ContainerClient } from "@azure/storage-blob";
import { describe, expect, it } from "vitest";
import { BlobReportStore } from "../../src/azure/blobReportStore.js";
import { isAuditError } from "../../src/core/errors.js";
import { jsonChunks } from "../../src/report/textChunks.js";
import { sharedAzurite } from "../support/auditRuns.js";
import { sampleReport } from "../support/sampleReport.js";

const storage = sharedAzurite();

function store(container: string) {
  const blobs = BlobServiceClient.fromConnectionString(storage.connectionString);
  return { reports: new BlobReportStore(blobs, container), container: blobs.getContainerClient(container) };
}

/** A stored file as any reader of the storage account gets it: its bytes, decoded as its Content-Encoding says. */
async function text(container: ReturnType<typeof store>["container"], name: string): Promise<string> {
  const blob = container.getBlockBlobClient(name);
  const [bytes, properties] = await Promise.all([blob.downloadToBuffer(), blob.getProperties()]);
  return (properties.contentEncoding === "gzip" ? gunzipSync(bytes) : bytes).toString("utf8");
}

/** About `megabytes` MB of text in small pieces, hexadecimal (it compresses only about half: several upload blocks). */
function* manyPieces(megabytes: number, failAfter?: number): Generator<string> {
  for (let i = 0; i < megabytes * 1024; i++) {
    if (failAfter !== undefined && i === failAfter) throw new Error("the renderer broke half way");
    let line = String(i).padStart(8, "0");
    for (let j = 0; j < 16; j++) line += createHash("sha256").update(`${i}.${j}`).digest("hex");
    yield `${line.slice(0, 1023)}\n`;
  }
}

describe("BlobReportStore.saveReport", () => {
  it("uploads each format as it is made and reads the JSON back whole", async () => {
    const { reports, container } = store("streamed");
    const report = sampleReport();
    await reports.saveReport("run-1", report, { csv: () => manyPieces(3), html: () => ["<p>", "page", "</p>"] });
    expect(await text(container, "runs/run-1/report.csv")).toBe([...manyPieces(3)].join(""));
    expect(await text(container, "runs/run-1/report.html")).toBe("<p>page</p>");
    expect(await text(container, "runs/run-1/report.json")).toBe(JSON.stringify(report, null, 2));
    expect(await reports.latestReport()).toEqual(JSON.parse(JSON.stringify(report)));
    // Several blocks: the upload did not gather the file into one body.
    const blocks = await container.getBlockBlobClient("runs/run-1/report.csv").getBlockList("committed");
    expect(blocks.committedBlocks?.length).toBeGreaterThan(1);
    // Stored compressed, and said so: a reader that honours Content-Encoding (a browser, curl --compressed) gets the text.
    for (const format of ["json", "csv", "html"]) {
      const properties = await container.getBlockBlobClient(`runs/run-1/report.${format}`).getProperties();
      expect(properties.contentEncoding).toBe("gzip");
    }
    const json = await container.getBlockBlobClient("runs/run-1/report.json").downloadToBuffer();
    expect(json.length).toBeLessThan(Buffer.byteLength(JSON.stringify(report, null, 2)));
  });

  it("refuses a stored report that says gzip but is not, naming it, as not worth retrying", async () => {
    const { reports, container } = store("damaged");
    const body = JSON.stringify(sampleReport());
    await container.createIfNotExists();
    await container
      .getBlockBlobClient("latest/report.json")
      .upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: "application/json", blobContentEncoding: "gzip" } });
    const error = await reports.latestReport().catch((e: unknown) => e);
    expect(isAuditError(error) ? [error.code, error.retryable] : error).toEqual(["INTERNAL", false]);
    expect((error as Error).message).toMatch(/^latest\/report\.json in Blob storage says it is gzip-compressed but cannot be decompressed/);
  });

  it.each([
    ["cut short", JSON.stringify(sampleReport()).slice(0, 200), /^latest\/report\.json in Blob storage is not JSON \(.+\); the next audit writes it again$/],
    ["JSON of something else", "[1, 2, 3]", /^latest\/report\.json in Blob storage is JSON but not what it should be \(no "schemaVersion"\)/],
  ])("refuses a stored report that decompresses but is %s, naming it, as not worth retrying", async (_name, body, message) => {
    const { reports, container } = store(`not-json-${body.length}`);
    await container.createIfNotExists();
    const gz = gzipSync(body);
    await container.getBlockBlobClient("latest/report.json").upload(gz, gz.length, { blobHTTPHeaders: { blobContentType: "application/json", blobContentEncoding: "gzip" } });
    const error = await reports.latestReport().catch((e: unknown) => e);
    expect(isAuditError(error) ? [error.code, error.retryable] : error).toEqual(["INTERNAL", false]);
    expect((error as Error).message).toMatch(message);
  });

  it("refuses a run's status that is not JSON, naming it", async () => {
    const { reports, container } = store("status-not-json");
    await container.createIfNotExists();
    const cut = '{"runId": "r1"';
    await container.getBlockBlobClient("runs/r1/status.json").upload(cut, Buffer.byteLength(cut), { blobHTTPHeaders: { blobContentType: "application/json" } });
    const error = await reports.status("r1").catch((e: unknown) => e);
    expect(isAuditError(error) ? [error.code, error.retryable] : error).toEqual(["INTERNAL", false]);
    expect((error as Error).message).toMatch(/^runs\/r1\/status\.json in Blob storage is not JSON \(.+\); the run's status cannot be shown$/);
  });

  it("reads back what an earlier build stored uncompressed", async () => {
    const { reports, container } = store("uncompressed");
    const report = sampleReport();
    const body = JSON.stringify(report, null, 2);
    await container.createIfNotExists();
    await container.getBlockBlobClient("latest/report.json").upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: "application/json" } });
    expect(await reports.latestReport()).toEqual(JSON.parse(body));
  });

  it("makes the JSON once for the run's blob and 'latest', both whole, 'latest' with the run's metadata", async () => {
    const { reports, container } = store("json-once");
    const report = sampleReport();
    let made = 0;
    // About 3 MB: several blocks in each blob.
    const json = () => {
      made++;
      return manyPieces(3);
    };
    await reports.saveReport("run-1", report, { json });
    expect(made).toBe(1);
    const expected = [...manyPieces(3)].join("");
    expect(await text(container, "runs/run-1/report.json")).toBe(expected);
    expect(await text(container, "latest/report.json")).toBe(expected);
    const latest = await container.getBlockBlobClient("latest/report.json").getProperties();
    expect(latest.metadata).toMatchObject({ runid: "run-1", asof: report.asOf });
    expect(latest.contentType).toBe("application/json");
    const blocks = await container.getBlockBlobClient("latest/report.json").getBlockList("committed");
    expect(blocks.committedBlocks?.length).toBeGreaterThan(1);
  });

  it("a format that fails half way leaves the earlier blob, moves no 'latest', and throws the maker's error", async () => {
    const { reports, container } = store("half-way");
    const first = sampleReport();
    await reports.saveReport("run-1", first, { csv: () => manyPieces(2) });
    await reports.saveReport("run-1", first, { csv: () => manyPieces(3) });
    const before = await text(container, "runs/run-1/report.csv");

    const second = { ...first, asOf: "2030-01-01" };
    const failing = reports.saveReport("run-1", second, { csv: () => manyPieces(3, 2_000), json: () => jsonChunks(second) });
    await expect(failing).rejects.toThrow("the renderer broke half way");
    await failing.catch((error: unknown) => expect(isAuditError(error)).toBe(false));
    expect(await text(container, "runs/run-1/report.csv")).toBe(before);
    expect((await reports.latestReport())?.asOf).toBe(first.asOf);
  });

  it("a storage failure half way through an upload fails as storage unavailable, commits nothing and moves no 'latest'", async () => {
    const { reports, container } = store("outage");
    const first = sampleReport();
    await reports.saveReport("run-1", first);
    // The same storage, through a client whose third staged block is refused (the JSON's second, in the run's blob).
    const real = BlobServiceClient.fromConnectionString(storage.connectionString);
    let staged = 0;
    const failing = {
      getContainerClient: (name: string) => {
        const inner = real.getContainerClient(name);
        return Object.assign(Object.create(inner) as ContainerClient, {
          getBlockBlobClient: (blob: string) => {
            const client = inner.getBlockBlobClient(blob);
            return Object.assign(Object.create(client) as BlockBlobClient, {
              stageBlock: async (...args: Parameters<BlockBlobClient["stageBlock"]>) => {
                if (++staged > 2) throw new RestError("The server is busy.", { statusCode: 503 });
                return client.stageBlock(...args);
              },
            });
          },
        });
      },
    } as unknown as BlobServiceClient;
    const second = { ...first, asOf: "2030-01-01" };
    const error = await new BlobReportStore(failing, "outage").saveReport("run-2", second, { json: () => manyPieces(3) }).catch((e: unknown) => e);
    expect(staged).toBeGreaterThan(2);
    expect(isAuditError(error) ? error.code : error).toBe("LEDGER.UNAVAILABLE");
    expect((await reports.latestReport())?.asOf).toBe(first.asOf);
    expect(await container.getBlockBlobClient("runs/run-2/report.json").exists()).toBe(false);
  });
});
