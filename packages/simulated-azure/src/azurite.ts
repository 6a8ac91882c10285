// Starts Azurite (the npm package, the Azure Storage emulator) as a child process on free loopback ports.
// Used by the CLI in --simulate mode when no AzureWebJobsStorage is configured, and by the tests.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";

/** Azurite's fixed, publicly documented development account; it guards nothing. */
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** Preloaded into the Azurite process: end it when the pipe from its parent closes. */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent('process.stdin.on("end", () => process.exit(0)).on("error", () => process.exit(0)).resume();')}`;

export interface LocalStorage {
  connectionString: string;
  blobEndpoint: string;
  tableEndpoint: string;
  stop(): Promise<void>;
}

export async function startAzurite(options: { location?: string; timeoutMs?: number } = {}): Promise<LocalStorage> {
  const script = createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
  const args = [script, "--blobPort", "0", "--queuePort", "0", "--tablePort", "0", "--skipApiVersionCheck", "--disableTelemetry", "--silent"];
  args.push(...(options.location ? ["--location", options.location] : ["--inMemoryPersistence"]));
  // The child exits when its stdin pipe closes, i.e. when this process ends, even by SIGKILL: otherwise a killed CLI
  // leaves Azurite running, orphaned, on its `--location`.
  const child = spawn(process.execPath, ["--import", EXIT_WITH_PARENT, ...args], { stdio: ["pipe", "pipe", "pipe"] });

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
