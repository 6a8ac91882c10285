// Starts Azurite (the npm package, the Azure Storage emulator) as a child process on free loopback ports.
// Used by the CLI in --simulate mode when no AzureWebJobsStorage is configured, and by the tests.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";

/** Azurite's fixed, publicly documented development account; it guards nothing. */
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** Preloaded into the Azurite process: end it when the pipe from its parent closes. */
const EXIT_WITH_PARENT = 'process.stdin.on("end", () => process.exit(0)).on("error", () => process.exit(0)).resume();';

/**
 * Preloaded into an Azurite that keeps its data on disk: every table write is saved before Azurite answers it.
 * Azurite's tables live in LokiJS, which saves to disk every 5 s (autosave); a process killed in between loses writes
 * it already acknowledged, i.e. a reminder's intent whose send then went out. Wrapping the store's writes makes an
 * acknowledged write a saved one (LokiJS saves to a temp file and renames it, so a kill mid-save leaves the previous
 * file whole). A batch (entity group transaction) is saved once, when it ends, so the disk never holds half of one;
 * a write outside it waits for open batches to end before its save. This relies on Azurite's internals
 * (LokiTableMetadataStore, azurite 3.x): if they change, the wrapper throws at start rather than run unsafely.
 */
function saveEachTableWrite(storeModule: string): string {
  return `
import { createRequire } from "node:module";
const require = createRequire(${JSON.stringify(storeModule)});
const Store = require(${JSON.stringify(storeModule)}).default;
const proto = Store?.prototype;
const AsyncFunction = (async () => {}).constructor;
if (!proto || typeof proto.beginBatchTransaction !== "function" || typeof proto.endBatchTransaction !== "function") {
  throw new Error("batch-cert-auditor: this Azurite's table store is not the one it knows how to save durably");
}
const openBatches = new Set();
let batchesEnded = [];
const allBatchesEnded = () => (openBatches.size === 0 ? Promise.resolve() : new Promise((resolve) => batchesEnded.push(resolve)));
const save = (db) => new Promise((resolve, reject) => db.saveDatabase((error) => (error ? reject(error) : resolve())));
const WRITE = /^(create|delete|set|insert|update|merge)[A-Z]/;
let wrapped = 0;
for (const name of Object.getOwnPropertyNames(proto)) {
  const original = proto[name];
  if (!(original instanceof AsyncFunction)) continue;
  if (name === "beginBatchTransaction") {
    proto[name] = async function (...args) {
      const result = await original.apply(this, args);
      openBatches.add(args[0]);
      return result;
    };
  } else if (name === "endBatchTransaction") {
    proto[name] = async function (...args) {
      try {
        return await original.apply(this, args);
      } finally {
        openBatches.delete(args[2]);
        if (openBatches.size === 0) for (const resolve of batchesEnded.splice(0)) resolve();
        await save(this.db);
      }
    };
  } else if (WRITE.test(name)) {
    wrapped++;
    proto[name] = async function (...args) {
      const result = await original.apply(this, args);
      // A step of an open batch is saved with the batch, when it ends.
      if (args.some((a) => typeof a === "string" && openBatches.has(a))) return result;
      await allBatchesEnded();
      await save(this.db);
      return result;
    };
  }
}
if (wrapped < 5) throw new Error("batch-cert-auditor: this Azurite's table store has no writes it knows how to save durably");
`;
}

function dataUrl(code: string): string {
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

export interface LocalStorage {
  connectionString: string;
  blobEndpoint: string;
  tableEndpoint: string;
  /** The Azurite process. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startAzurite(options: { location?: string; timeoutMs?: number } = {}): Promise<LocalStorage> {
  const require = createRequire(import.meta.url);
  const script = require.resolve("azurite/dist/src/azurite.js");
  const args = [script, "--blobPort", "0", "--queuePort", "0", "--tablePort", "0", "--skipApiVersionCheck", "--disableTelemetry", "--silent"];
  args.push(...(options.location ? ["--location", options.location] : ["--inMemoryPersistence"]));
  // The child exits when its stdin pipe closes, i.e. when this process ends, even by SIGKILL: otherwise a killed CLI
  // leaves Azurite running, orphaned, on its `--location`.
  // With a location, every acknowledged table write is on disk (see saveEachTableWrite): nothing is lost when the
  // child exits with its parent, or is killed.
  const preloads = [EXIT_WITH_PARENT, ...(options.location ? [saveEachTableWrite(require.resolve("azurite/dist/src/table/persistence/LokiTableMetadataStore.js"))] : [])];
  const child = spawn(process.execPath, [...preloads.flatMap((code) => ["--import", dataUrl(code)]), ...args], { stdio: ["pipe", "pipe", "pipe"] });

  const ports = await new Promise<{ blob: string; table: string }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${options.timeoutMs ?? 30_000} ms:\n${out}`)), options.timeoutMs ?? 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const blob = /Blob service is successfully listening at (http:\/\/\S+)/.exec(out)?.[1];
      const table = /Table service is successfully listening at (http:\/\/\S+)/.exec(out)?.[1];
      if (blob && table) {
        clearTimeout(timer);
        resolve({ blob, table });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => fail(new Error(`Azurite exited with code ${code}:\n${out}`)));
    child.once("error", fail);
  });

  const blobEndpoint = `${ports.blob}/${DEV_ACCOUNT}`;
  const tableEndpoint = `${ports.table}/${DEV_ACCOUNT}`;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${blobEndpoint};TableEndpoint=${tableEndpoint};`,
    blobEndpoint,
    tableEndpoint,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 3000).unref();
  });
}
