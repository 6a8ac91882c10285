#!/usr/bin/env node
// Runs the simulated Azure alone: `simulated-azure <snapshot.json> [--port N] [--latency-ms N] [--ca-out FILE]`. Prints its URL and
// writes its CA certificate to `--ca-out` (default `simulated-azure-ca.pem` in the working directory) for clients to trust; stops on Ctrl-C.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startSimulator } from "./server.js";
import { loadSnapshot } from "./snapshot.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: "string" }, "latency-ms": { type: "string" }, "ca-out": { type: "string" } },
});
const path = positionals[0];
const number = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not "${value}"`);
  return n;
};
try {
  if (!path) throw new Error("usage: simulated-azure <snapshot.json> [--port N] [--latency-ms N] [--ca-out FILE]");
  const caOut = values["ca-out"] ?? "simulated-azure-ca.pem";
  const port = number("port", values.port);
  const latencyMs = number("latency-ms", values["latency-ms"]);
  const sim = await startSimulator({ snapshot: await loadSnapshot(path), ...(port === undefined ? {} : { port }), ...(latencyMs === undefined ? {} : { latencyMs }) });
  await writeFile(caOut, sim.ca);
  process.stdout.write(`Simulated Azure at ${sim.url} (CA certificate: ${caOut}). Ctrl-C stops it.\n`);
  process.once("SIGINT", () => void sim.close().then(() => process.exit(0)));
} catch (error) {
  process.stderr.write(`simulated-azure: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
