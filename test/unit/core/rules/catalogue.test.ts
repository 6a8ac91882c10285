import { describe, expect, it } from "vitest";
import { buildFindings } from "../../../../src/core/findings.js";
import type { BatchAccountInfo, PoolFacts, PoolInfo } from "../../../../src/core/model.js";
import { BUILT_IN_RULES } from "../../../../src/core/rules/catalogue.js";
import { evaluatePoolRule } from "../../../../src/core/rules/evaluate.js";

const ACCOUNT: BatchAccountInfo = {
  id: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct",
  name: "acct",
  subscriptionId: "s1",
  resourceGroup: "rg",
  location: "westeurope",
  tags: {},
  poolAllocationMode: "BatchService",
};

function pool(facts: PoolFacts | undefined, name = "p1", certificateReferences: PoolInfo["certificateReferences"] = []): PoolInfo {
  return {
    id: `${ACCOUNT.id}/pools/${name}`,
    name,
    accountId: ACCOUNT.id,
    subscriptionId: "s1",
    resourceGroup: "rg",
    accountName: "acct",
    certificateReferences,
    ...(facts === undefined ? {} : { facts }),
  };
}

const NOTHING_RETIRING: PoolFacts = {
  vmSize: "Standard_D2s_v5",
  imagePublisher: "canonical",
  imageOffer: "ubuntu-24_04-lts",
  imageSku: "server",
  imageId: null,
  nodeAgentSkuId: "batch.node.ubuntu 24.04",
  cloudServiceOsFamily: null,
  targetNodeCommunicationMode: "Simplified",
  currentNodeCommunicationMode: "Simplified",
  targetLowPriorityNodes: 0,
  currentLowPriorityNodes: 0,
  autoScaleFormula: null,
};

const without = (facts: PoolFacts, ...keys: (keyof PoolFacts)[]): PoolFacts => Object.fromEntries(Object.entries(facts).filter(([k]) => !keys.includes(k as keyof PoolFacts)));

/** Per shipped pool rule: facts that make a pool affected, and which facts left out make it unknown. */
const CASES: { rule: string; affected: PoolFacts; unknownWithout: (keyof PoolFacts)[]; account?: Partial<BatchAccountInfo> }[] = [
  { rule: "cloudservice-pool", affected: { ...NOTHING_RETIRING, cloudServiceOsFamily: "6", vmSize: "standard_d2s_v5" }, unknownWithout: ["cloudServiceOsFamily"] },
  {
    rule: "windows-server-2016-image",
    affected: { ...NOTHING_RETIRING, imagePublisher: "microsoftwindowsserver", imageOffer: "WindowsServer", imageSku: "2016-Datacenter", nodeAgentSkuId: "batch.node.windows amd64" },
    unknownWithout: ["imageSku"],
  },
  {
    rule: "windows-server-2012-image",
    affected: { ...NOTHING_RETIRING, imagePublisher: "MicrosoftWindowsServer", imageOffer: "WindowsServer", imageSku: "2012-r2-datacenter-smalldisk", nodeAgentSkuId: "batch.node.windows amd64" },
    unknownWithout: ["imagePublisher"],
  },
  { rule: "ubuntu-20.04-node-agent", affected: { ...NOTHING_RETIRING, nodeAgentSkuId: "batch.node.ubuntu 20.04" }, unknownWithout: ["nodeAgentSkuId"] },
  { rule: "ubuntu-22.04-node-agent", affected: { ...NOTHING_RETIRING, nodeAgentSkuId: "Batch.Node.Ubuntu 22.04" }, unknownWithout: ["nodeAgentSkuId"] },
  { rule: "eol-node-agents", affected: { ...NOTHING_RETIRING, nodeAgentSkuId: "batch.node.debian 10" }, unknownWithout: ["nodeAgentSkuId"] },
  { rule: "centos-7", affected: { ...NOTHING_RETIRING, nodeAgentSkuId: "batch.node.centos 7" }, unknownWithout: ["nodeAgentSkuId"] },
  {
    rule: "low-priority-nodes",
    affected: { ...NOTHING_RETIRING, autoScaleFormula: "$TargetLowPriorityNodes = min(10, $PendingTasks.GetSample(1));" },
    unknownWithout: ["targetLowPriorityNodes", "currentLowPriorityNodes", "autoScaleFormula"],
  },
  { rule: "classic-node-communication", affected: { ...NOTHING_RETIRING, currentNodeCommunicationMode: "classic" }, unknownWithout: ["targetNodeCommunicationMode", "currentNodeCommunicationMode"] },
  {
    rule: "custom-image-managed",
    affected: { ...NOTHING_RETIRING, imageId: "/subscriptions/s1/resourceGroups/img/providers/Microsoft.Compute/images/render-2023" },
    unknownWithout: ["imageId"],
  },
  { rule: "basic-standard-a", affected: { ...NOTHING_RETIRING, vmSize: "standard_a4" }, unknownWithout: ["vmSize"] },
  { rule: "ncv3", affected: { ...NOTHING_RETIRING, vmSize: "Standard_NC6s_v3" }, unknownWithout: ["vmSize"] },
  { rule: "hbv2-hc-np", affected: { ...NOTHING_RETIRING, vmSize: "Standard_HB120-32rs_v2" }, unknownWithout: ["vmSize"] },
  { rule: "d-ds-dv2-dsv2-ls", affected: { ...NOTHING_RETIRING, vmSize: "Standard_DS3_v2" }, unknownWithout: ["vmSize"] },
];

const rule = (id: string) => {
  const found = BUILT_IN_RULES.find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
};

describe("shipped pool rules", () => {
  it("cover every pool rule of the catalogue", () => {
    const tested = new Set([...CASES.map((c) => c.rule), "pool-certificate-reference"]);
    expect(BUILT_IN_RULES.filter((r) => r.target === "pool").map((r) => r.id).filter((id) => !tested.has(id))).toEqual([]);
  });

  for (const c of CASES) {
    describe(c.rule, () => {
      it("finds a pool that has what retires (compared case-insensitively)", () => {
        expect(evaluatePoolRule(rule(c.rule), pool(c.affected), ACCOUNT)).toEqual({ status: "affected" });
      });
      it("leaves a pool on supported settings alone", () => {
        expect(evaluatePoolRule(rule(c.rule), pool(NOTHING_RETIRING), ACCOUNT)).toEqual({ status: "not-affected" });
      });
      it("says unknown, naming the property, when the read did not carry it", () => {
        const verdict = evaluatePoolRule(rule(c.rule), pool(without(c.affected, ...c.unknownWithout)), ACCOUNT);
        expect(verdict.status).toBe("unknown");
        expect(verdict.status === "unknown" ? [...verdict.missing].sort() : []).toEqual([...c.unknownWithout].sort());
      });
    });
  }

  it("a pool with no facts at all is unknown for every pool rule, never not-affected (certificate references aside)", () => {
    for (const r of BUILT_IN_RULES.filter((x) => x.target === "pool" && x.id !== "pool-certificate-reference")) {
      expect(evaluatePoolRule(r, pool(undefined), ACCOUNT).status, r.id).toBe("unknown");
    }
  });

  it("low-priority nodes matter only in Batch-managed accounts, and are unknown when the allocation mode was not read", () => {
    const lowPriority = { ...NOTHING_RETIRING, targetLowPriorityNodes: 4 };
    expect(evaluatePoolRule(rule("low-priority-nodes"), pool(lowPriority), { ...ACCOUNT, poolAllocationMode: "UserSubscription" }).status).toBe("not-affected");
    expect(evaluatePoolRule(rule("low-priority-nodes"), pool(lowPriority), { location: "westeurope" })).toEqual({ status: "unknown", missing: ["account.poolAllocationMode"] });
  });

  it("a known fact that rules the pool out wins over one that was not read", () => {
    // A Canonical image is not Windows Server 2016, whatever its SKU.
    expect(evaluatePoolRule(rule("windows-server-2016-image"), pool(without(NOTHING_RETIRING, "imageSku")), ACCOUNT)).toEqual({ status: "not-affected" });
  });
});

describe("pool-certificate-reference and account-certificate as rules", () => {
  const reference = { id: `${ACCOUNT.id}/certificates/sha1-abc` };
  it("a pool with references is affected, one without is not", () => {
    expect(evaluatePoolRule(rule("pool-certificate-reference"), pool(undefined, "p1", [reference]), ACCOUNT)).toEqual({ status: "affected" });
    expect(evaluatePoolRule(rule("pool-certificate-reference"), pool(undefined, "p1", []), ACCOUNT)).toEqual({ status: "not-affected" });
  });

  it("certificates become account-certificate findings with the rule, deadline and days left", () => {
    const findings = buildFindings({
      accounts: [ACCOUNT],
      certificates: new Map([[ACCOUNT.id.toLowerCase(), [{ id: `${ACCOUNT.id}/certificates/sha1-abc`, name: "sha1-abc", accountId: ACCOUNT.id, thumbprint: "abc", thumbprintAlgorithm: "sha1" }]]]),
      pools: [pool(undefined, "p1", [reference])],
      subscriptionNames: new Map(),
      asOf: "2026-12-04",
    });
    expect(findings.map((f) => [f.id, f.rule, f.kind, f.deadline, f.daysLeft, f.severity])).toEqual([
      [`account-certificate:${ACCOUNT.id.toLowerCase()}/certificates/sha1-abc`, "account-certificate", "account-certificate", "2024-02-29", -1009, "critical"],
      [`pool-certificate-reference:${ACCOUNT.id.toLowerCase()}/pools/p1`, "pool-certificate-reference", "pool-certificate-reference", "2024-02-29", -1009, "critical"],
    ]);
  });
});

describe("one pool, several rules", () => {
  it("gives one finding per rule, each with its own deadline, soonest first", () => {
    const facts: PoolFacts = { ...NOTHING_RETIRING, vmSize: "Standard_D2_v2", imagePublisher: "MicrosoftWindowsServer", imageOffer: "WindowsServer", imageSku: "2016-datacenter", nodeAgentSkuId: "batch.node.windows amd64" };
    const findings = buildFindings({ accounts: [ACCOUNT], certificates: new Map([[ACCOUNT.id.toLowerCase(), []]]), pools: [pool(facts, "p1", [{ id: `${ACCOUNT.id}/certificates/sha1-abc` }])], subscriptionNames: new Map(), asOf: "2026-12-04" });
    expect(findings.map((f) => [f.rule, f.deadline, f.daysLeft, f.deadlineSource, f.deadlineConfirmed])).toEqual([
      ["pool-certificate-reference", "2024-02-29", -1009, "catalogue", undefined],
      ["windows-server-2016-image", "2027-01-12", 39, "catalogue", undefined],
      ["d-ds-dv2-dsv2-ls", "2028-05-01", 514, "catalogue", false],
    ]);
    expect(new Set(findings.map((f) => f.id)).size).toBe(3);
  });
});

describe("VM-size deadlines", () => {
  const ncv3 = (location: string, azure?: Map<string, Map<string, string>>) =>
    buildFindings({
      accounts: [{ ...ACCOUNT, location }],
      certificates: new Map([[ACCOUNT.id.toLowerCase(), []]]),
      pools: [pool({ vmSize: "Standard_NC6s_v3" })],
      subscriptionNames: new Map(),
      asOf: "2026-12-04",
      ...(azure ? { vmSizeEndOfLife: azure } : {}),
    })[0];

  it("take Azure's batchSupportEndOfLife for the account's region when it was read, and say so", () => {
    const f = ncv3("eastus", new Map([["eastus", new Map([["standard_nc6s_v3", "2026-09-30"]])]]));
    expect([f?.deadline, f?.deadlineSource, f?.deadlineConfirmed]).toEqual(["2026-09-30", "azure", undefined]);
  });

  it("fall back to the catalogue's regional date (NCv3 in US Gov Virginia: 27 days left)", () => {
    const f = ncv3("USGov Virginia", new Map([["eastus", new Map([["standard_nc6s_v3", "2026-09-30"]])]]));
    expect([f?.deadline, f?.daysLeft, f?.deadlineSource, f?.deadlineConfirmed]).toEqual(["2026-12-31", 27, "catalogue", false]);
  });

  it("else the catalogue's date, marked unconfirmed", () => {
    const f = ncv3("westeurope");
    expect([f?.deadline, f?.deadlineSource, f?.deadlineConfirmed]).toEqual(["2025-09-30", "catalogue", false]);
  });
});
