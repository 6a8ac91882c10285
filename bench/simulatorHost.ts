// Starts the simulated Azure for a bench case: the generated tenant, the realistic settings, and the counts the
// results are checked against (what the tenant truly holds; the hot subscription's Batch calls).
import { ALL_QUERIES } from "../src/azure/queries.js";
import { executeKql } from "@batch-cert-auditor/simulated-azure";
import { startSimulator, type SimulatedAzure, type SimulatorStats } from "@batch-cert-auditor/simulated-azure";
import { expectedUsage, generateTenant, type TenantShape } from "@batch-cert-auditor/simulated-azure";
import { simulatorOptions, type SimulatorSettings } from "./cases.js";

export interface HostedSimulator {
  url: string;
  ca: string;
  expected: { accounts: number; accountCertificates: number; poolsWithCertificates: number; accountsWithCertificates: number };
  /**
   * Stats so far, with the first (hot) subscription's Batch calls that were served (not throttled), and the CPU time
   * its process spent since it started serving (the whole process's: in-process runs count the run's CPU too).
   */
  stats(): SimulatorStats & { hotSubscriptionCalls: number; cpuSeconds: number };
  close(): Promise<void>;
}

export async function hostSimulator(shape: TenantShape, settings: SimulatorSettings): Promise<HostedSimulator> {
  const generated = generateTenant(shape);
  const snapshot = settings.resourceGraphBatchPoolApiVersion
    ? { ...generated, resourceGraph: { batchPoolApiVersion: settings.resourceGraphBatchPoolApiVersion } }
    : generated;
  const truth = expectedUsage(snapshot);
  const expected = {
    accounts: snapshot.resources.filter((r) => r.type.toLowerCase() === "microsoft.batch/batchaccounts").length,
    accountCertificates: truth.certificates.length,
    poolsWithCertificates: truth.poolsWithCertificates.length,
    accountsWithCertificates: new Set(truth.certificates.map((id) => id.split("/certificates/")[0])).size,
  };
  // The simulator parses KQL with Microsoft's Kusto parser, whose first use costs seconds; real Resource Graph is
  // warm, so compile the auditor's queries before the clock starts.
  for (const query of Object.values(ALL_QUERIES)) executeKql(query, { resources: [], batchresources: [], resourcecontainers: [], authorizationresources: [] });
  const hot = snapshot.subscriptions[0]?.subscriptionId.toLowerCase();
  let hotSubscriptionCalls = 0;
  const options = simulatorOptions(settings);
  const sim: SimulatedAzure = await startSimulator({
    ...options,
    snapshot,
    batch: {
      ...options.batch,
      onCall: (subscriptionId, status) => {
        if (status !== 429 && subscriptionId.toLowerCase() === hot) hotSubscriptionCalls++;
      },
    },
  });
  const cpu = process.cpuUsage();
  const cpuSeconds = () => {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1e6;
  };
  return { url: sim.url, ca: sim.ca, expected, stats: () => ({ ...sim.stats, hotSubscriptionCalls, cpuSeconds: cpuSeconds() }), close: () => sim.close() };
}
