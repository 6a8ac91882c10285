// Telemetry is exported only when Application Insights is configured, and then with the managed identity the
// infra gives the app. The exporter here points at a closed loopback port: nothing leaves the machine.
import { metrics } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { silentLogger, createLogger } from "../../src/app/logger.js";
import { recordRun, startTelemetry } from "../../src/app/telemetry.js";
import { loadConfig } from "../../src/config.js";

// No shutdownAzureMonitor() at the end: its final flush would ask the (absent) managed identity endpoint for a
// token. The test process ends with the file.

describe("telemetry", () => {
  it("stays off without APPLICATIONINSIGHTS_CONNECTION_STRING, and recording metrics is then harmless", async () => {
    const provider = metrics.getMeterProvider();
    expect(await startTelemetry(loadConfig({}), silentLogger)).toBe(false);
    expect(metrics.getMeterProvider()).toBe(provider);
    expect(() => recordRun({ state: "already-running", activeRunId: "run-x" }, "timer", 1)).not.toThrow();
  });

  it("starts the Azure Monitor exporter once, with the managed identity when AZURE_CLIENT_ID is set", async () => {
    const lines: string[] = [];
    const log = createLogger((level, message, fields) => lines.push(`${level}: ${message} ${JSON.stringify(fields)}`));
    const config = loadConfig({
      APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=http://127.0.0.1:9/",
      AZURE_CLIENT_ID: "11111111-2222-4333-8444-555555555555",
    });
    const before = metrics.getMeterProvider();
    const first = startTelemetry(config, log);
    expect(startTelemetry(config, log)).toBe(first);
    expect(await first).toBe(true);
    expect(lines).toEqual(['info: telemetry exported to Application Insights {"managedIdentity":true}']);
    // The app's instruments now record into the SDK's provider.
    expect(metrics.getMeterProvider()).not.toBe(before);
    expect(() => recordRun({ state: "failed", runId: "run-x", error: new Error("x") }, "http", 10)).not.toThrow();
  });
});
