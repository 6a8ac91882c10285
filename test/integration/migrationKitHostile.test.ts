// The migration kit over HTTP for pools shaped to trip it up: a CloudServiceConfiguration pool, a Windows pool with
// every kind of secret Azure does not return (and shell metacharacters in its names), references repeated in another
// case or malformed, and properties the 2024-07-01 contract does not have.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage, type TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { composeRun, demo, isolatedStorage, runJob, startSimulatedAzure, succeeded } from "../support/auditRuns.js";
import { poolSchemaErrors } from "../support/poolSchema.js";

let azurite: LocalStorage;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

function hostileTenant(): TenantSnapshot {
  const tenant = demo();
  const pools = tenant.resources.filter((r) => r.type === "Microsoft.Batch/batchAccounts/pools" && Array.isArray(r.properties?.certificates));
  const [cloud, windows, repeated] = pools;
  if (!cloud?.properties || !windows?.properties || !repeated?.properties) throw new Error("the demo needs three pools with certificates");
  cloud.properties.deploymentConfiguration = { cloudServiceConfiguration: { osFamily: "5", osVersion: "*" } };
  cloud.properties.futureProperty = { anything: true };
  windows.properties.deploymentConfiguration = {
    virtualMachineConfiguration: {
      imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter", version: "latest" },
      nodeAgentSkuId: "batch.node.windows amd64",
      containerConfiguration: { type: "DockerCompatible", containerRegistries: [{ registryServer: "evil$(reboot).azurecr.io", username: "u'; rm -rf /" }] },
    },
  };
  windows.properties.userAccounts = [{ name: "a\"b", elevationLevel: "Admin" }];
  windows.properties.startTask = { commandLine: "cmd /c echo", environmentSettings: [{ name: "SECRET" }] };
  windows.properties.mountConfiguration = [{ cifsMountConfiguration: { userName: "u", source: "//srv/share", relativeMountPath: "s" } }];
  const refs = repeated.properties.certificates as { id: string }[];
  const first = refs[0]!.id;
  repeated.properties.certificates = [...refs, { id: first.toUpperCase() }, { id: `${first.split("/certificates/")[0]}/pools/x/certificates/sha1-abc` }, { id: "not-an-arm-id" }];
  return tenant;
}

describe("the migration kit for hostile pools", () => {
  it("gives every pool read from the Batch API a body that validates against 2024-07-01, without properties it does not know, with one Key Vault extension observing each distinct certificate once, and placeholders for every secret", async () => {
    const { sim, accessKey } = await startSimulatedAzure(hostileTenant());
    try {
      const done = succeeded(await runJob(composeRun(sim, accessKey, isolatedStorage(azurite.connectionString)), "2026-11-26"));
      const pools = done.report.findings.filter((f) => f.kind === "pool-certificate-reference" && f.sources?.includes("batch-api"));
      expect(pools.length).toBeGreaterThanOrEqual(3);
      for (const f of pools) {
        const body = f.migration?.replacementPool;
        expect(body, f.poolName).toBeDefined();
        expect(poolSchemaErrors(body), f.poolName).toEqual([]);
        const text = JSON.stringify(body);
        expect(text).not.toContain("futureProperty");
        expect(text).not.toContain('"certificates"');
        const vmc = (body!.properties as { deploymentConfiguration: { virtualMachineConfiguration: { extensions: { publisher: string; settings: { secretsManagementSettings: { observedCertificates: { url: string }[] } } }[] } } })
          .deploymentConfiguration.virtualMachineConfiguration;
        const keyVault = vmc.extensions.filter((e) => e.publisher === "Microsoft.Azure.KeyVault");
        expect(keyVault, f.poolName).toHaveLength(1);
        const urls = keyVault[0]!.settings.secretsManagementSettings.observedCertificates.map((o) => o.url);
        expect(new Set(urls).size).toBe(urls.length);
      }
      const cloud = pools.find((f) => f.migration?.notes.some((n) => n.includes("CloudServiceConfiguration")));
      expect(cloud?.migration?.os).toBe("windows");
      const windows = pools.find((f) => f.migration?.placeholders.some((p) => p.includes("start task environment value SECRET")));
      expect(windows?.migration?.placeholders).toEqual(
        expect.arrayContaining([expect.stringContaining("password of user account"), expect.stringContaining("password for registry"), expect.stringContaining("password of CIFS user")]),
      );
    } finally {
      await sim.close();
    }
  }, 60_000);
});
