// The shipped retirement rules, as data. Dates, detectors and sources are those of the sourced catalogue (README
// "Retirement rules"); where no Batch source confirms a date, `deadlineConfirmed` is false and every output says so.
// Countdowns in comments are as of 2026-12-04.
import { migrationKitPlan } from "../migrationKit.js";
import type { RetirementRule } from "./rule.js";

const LEARN = "https://learn.microsoft.com/azure";
const BATCH_ISSUE = (n: number) => `https://github.com/Azure/Batch/issues/${n}`;
const RETIREMENTS = BATCH_ISSUE(140);
const VM_RETIREMENT = `${LEARN}/virtual-machines/sizes/lifecycle/retirement`;

const CERTIFICATE_GUIDE = `${LEARN}/batch/batch-certificate-migration-guide`;

const MARKETPLACE_WINDOWS = [
  { fact: "imagePublisher", equals: "MicrosoftWindowsServer" },
  { fact: "imageOffer", equals: "WindowsServer" },
] as const;

/** Node agents Batch stopped supporting on 2024-12-31 (Azure/Batch#180). */
const EOL_NODE_AGENTS = [
  "batch.node.centos 7",
  "batch.node.centos 8",
  "batch.node.debian 8",
  "batch.node.debian 9",
  "batch.node.debian 10",
  "batch.node.ubuntu 14.04",
  "batch.node.ubuntu 16.04",
  "batch.node.ubuntu 18.04",
];

const sizes = (prefix: string, names: (string | number)[], suffix = "") => names.map((n) => `${prefix}${n}${suffix}`);

export const CERTIFICATE_RULES: readonly RetirementRule[] = [
  {
    id: "account-certificate",
    title: "Batch account certificates",
    deadline: "2024-02-29",
    deadlineConfirmed: true,
    severity: "critical",
    target: "account-certificate",
    steps: [
      "Put each certificate in Azure Key Vault and give the pools a user-assigned managed identity that can read it.",
      "Replace every pool that references a certificate with one that installs it through the Key Vault VM extension.",
      "Delete the account certificate once no pool references it.",
    ],
    guideUrl: CERTIFICATE_GUIDE,
    sources: [CERTIFICATE_GUIDE, RETIREMENTS],
  },
  {
    id: "pool-certificate-reference",
    title: "Pools referencing Batch certificates",
    deadline: "2024-02-29",
    deadlineConfirmed: true,
    severity: "critical",
    target: "pool",
    when: { fact: "certificateReferences", gt: 0 },
    steps: [
      "Create the replacement pool from the migration kit: same settings, no certificates, the Key Vault VM extension and a user-assigned identity.",
      "Move jobs to the replacement pool, then delete the old pool.",
    ],
    guideUrl: CERTIFICATE_GUIDE,
    sources: [CERTIFICATE_GUIDE, "https://github.com/Azure/azure-sdk-for-go/issues/24713"],
    kit: migrationKitPlan,
  },
  {
    id: "cloudservice-pool",
    title: "CloudServiceConfiguration pools",
    deadline: "2024-02-29",
    deadlineConfirmed: true,
    milestones: [{ date: "2024-02-29", what: "no new pools or nodes; existing pools are scaled in to 0" }],
    severity: "critical",
    target: "pool",
    when: { fact: "cloudServiceOsFamily", present: true },
    steps: [
      "Create a VirtualMachineConfiguration pool with a Windows Server Marketplace image matching the pool's OS family.",
      "Move jobs to it and delete the CloudServiceConfiguration pool.",
    ],
    guideUrl: `${LEARN}/batch/batch-pool-cloud-service-to-virtual-machine-configuration`,
    sources: [`${LEARN}/batch/batch-pool-cloud-service-to-virtual-machine-configuration`, RETIREMENTS],
  },
];

export const CATALOGUE_RULES: readonly RetirementRule[] = [
  {
    id: "windows-server-2016-image",
    title: "Windows Server 2016 Marketplace images",
    deadline: "2027-01-12",
    deadlineConfirmed: true,
    severity: "critical",
    target: "pool",
    when: {
      all: [
        ...MARKETPLACE_WINDOWS,
        {
          fact: "imageSku",
          in: [
            "2016-datacenter-gensecond",
            "2016-datacenter",
            "2016-datacenter-gs",
            "2016-datacenter-smalldisk",
            "2016-datacenter-smalldisk-g2",
            "2016-datacenter-with-containers",
            "2016-datacenter-with-containers-gs",
          ],
        },
      ],
    },
    steps: [
      "Create a pool with a newer Windows Server Marketplace image (2022 or 2025) and test your workload on it.",
      "Or build a custom Windows Server 2016 image with Extended Security Updates (Batch support still ends on the same day).",
      "Move jobs to the new pool and delete the old one.",
    ],
    guideUrl: BATCH_ISSUE(197),
    sources: [BATCH_ISSUE(197), RETIREMENTS],
  },
  {
    id: "windows-server-2012-image",
    title: "Windows Server 2012 / 2012 R2 Marketplace images",
    deadline: "2024-12-05",
    deadlineConfirmed: true,
    severity: "critical",
    target: "pool",
    when: {
      all: [
        ...MARKETPLACE_WINDOWS,
        { fact: "imageSku", in: ["2012-R2-Datacenter", "2012-R2-Datacenter-smalldisk", "2012-Datacenter", "2012-Datacenter-smalldisk"] },
      ],
    },
    steps: ["Create a pool with a supported Windows Server Marketplace image (2022 or 2025).", "Move jobs to it and delete the old pool."],
    guideUrl: BATCH_ISSUE(179),
    sources: [BATCH_ISSUE(179), RETIREMENTS],
  },
  {
    id: "ubuntu-20.04-node-agent",
    title: "Ubuntu 20.04 node agent",
    deadline: "2025-04-23",
    deadlineConfirmed: true,
    severity: "critical",
    target: "pool",
    when: { fact: "nodeAgentSkuId", equals: "batch.node.ubuntu 20.04" },
    steps: ["Create a pool with an Ubuntu 22.04 or 24.04 image and its node agent (batch.node.ubuntu 24.04).", "Move jobs to it and delete the old pool."],
    guideUrl: BATCH_ISSUE(174),
    sources: [BATCH_ISSUE(174), "https://github.com/UCL/TLOmodel/issues/1549"],
  },
  {
    id: "ubuntu-22.04-node-agent",
    title: "Ubuntu 22.04 node agent",
    deadline: "2027-06-30",
    deadlineConfirmed: true,
    severity: "warning",
    target: "pool",
    when: { fact: "nodeAgentSkuId", equals: "batch.node.ubuntu 22.04" },
    steps: [
      "Create a pool with an Ubuntu 24.04 image (e.g. microsoft-dsvm:ubuntu-hpc:2404) and node agent batch.node.ubuntu 24.04.",
      "Move jobs to it and delete the old pool: after the date, creating and resizing may fail and pools may be scaled to 0.",
    ],
    guideUrl: BATCH_ISSUE(200),
    sources: [BATCH_ISSUE(200)],
  },
  {
    id: "eol-node-agents",
    title: "End-of-life node agents (CentOS, Debian, old Ubuntu)",
    deadline: "2024-12-31",
    deadlineConfirmed: true,
    milestones: [{ date: "2024-12-31", what: "no new pools; existing pools are scaled to 0" }],
    severity: "critical",
    target: "pool",
    when: { fact: "nodeAgentSkuId", in: EOL_NODE_AGENTS },
    steps: ["Create a pool with a supported distribution and node agent (e.g. Ubuntu 24.04, AlmaLinux, RHEL).", "Move jobs to it and delete the old pool."],
    guideUrl: BATCH_ISSUE(180),
    sources: [BATCH_ISSUE(180)],
  },
  {
    id: "centos-7",
    title: "CentOS 7 pools",
    deadline: "2024-07-01",
    deadlineConfirmed: true,
    severity: "critical",
    target: "pool",
    when: { fact: "nodeAgentSkuId", equals: "batch.node.centos 7" },
    steps: ["Create a pool with RHEL or AlmaLinux and its node agent.", "Move jobs to it and delete the CentOS 7 pool."],
    guideUrl: BATCH_ISSUE(169),
    sources: [BATCH_ISSUE(169)],
  },
  {
    id: "low-priority-nodes",
    title: "Low-priority nodes in Batch-managed accounts",
    deadline: "2025-09-30",
    deadlineConfirmed: true,
    milestones: [{ date: "2026-03-01", what: "system-initiated migration of low-priority requests to Spot (early March 2026)" }],
    severity: "warning",
    target: "pool",
    when: {
      all: [
        { fact: "account.poolAllocationMode", equals: "BatchService" },
        {
          any: [
            { fact: "targetLowPriorityNodes", gt: 0 },
            { fact: "currentLowPriorityNodes", gt: 0 },
            { fact: "autoScaleFormula", matches: "\\$TargetLowPriorityNodes\\s*=" },
          ],
        },
      ],
    },
    steps: [
      "No action is required: low-priority requests now allocate Spot nodes with Spot pricing.",
      "Check that your jobs tolerate Spot eviction, and rename low-priority settings to Spot in templates when convenient.",
    ],
    guideUrl: `${LEARN}/batch/batch-spot-vms`,
    sources: [BATCH_ISSUE(196), `${LEARN}/batch/batch-spot-vms`, RETIREMENTS],
  },
  {
    id: "classic-node-communication",
    title: "Classic node communication mode",
    deadline: "2026-03-31",
    deadlineConfirmed: true,
    milestones: [{ date: "2024-09-30", what: "new pools in a virtual network default to Simplified" }],
    severity: "critical",
    target: "pool",
    when: {
      any: [
        { fact: "targetNodeCommunicationMode", equals: "Classic" },
        { fact: "currentNodeCommunicationMode", equals: "Classic" },
      ],
    },
    steps: [
      "If the account's public network access is disabled, create a nodeManagement private endpoint first.",
      "Set the pool's targetNodeCommunicationMode to Simplified, and open outbound 443 to the Batch service if the subnet restricts it.",
    ],
    guideUrl: `${LEARN}/batch/batch-pools-to-simplified-compute-node-communication-model-migration-guide`,
    sources: [`${LEARN}/batch/batch-pools-to-simplified-compute-node-communication-model-migration-guide`],
  },
  {
    id: "custom-image-managed",
    title: "Custom images from managed images (not Azure Compute Gallery)",
    deadline: "2026-03-31",
    deadlineConfirmed: true,
    severity: "critical",
    target: "pool",
    when: { fact: "imageId", matches: "/providers/Microsoft\\.Compute/images/" },
    steps: ["Publish the image to an Azure Compute Gallery as an image version.", "Create a pool from the gallery image version, move jobs to it and delete the old pool."],
    guideUrl: `${LEARN}/batch/batch-custom-image-pools-to-azure-compute-gallery-migration-guide`,
    sources: [`${LEARN}/batch/batch-custom-image-pools-to-azure-compute-gallery-migration-guide`, `${LEARN}/batch/batch-custom-images`],
  },
  {
    id: "basic-standard-a",
    title: "Basic and Standard A-series VM sizes",
    deadline: "2024-08-31",
    deadlineConfirmed: false,
    vmSizeEndOfLife: true,
    severity: "critical",
    target: "pool",
    when: { fact: "vmSize", in: [...sizes("Basic_A", [0, 1, 2, 3, 4]), ...sizes("Standard_A", [0, 1, 2, 3, 4, 5, 6, 7])] },
    steps: ["Create a pool with an Av2-series or newer VM size.", "Move jobs to it and delete the old pool."],
    guideUrl: `${VM_RETIREMENT}/av1-series-retirement`,
    sources: [`${VM_RETIREMENT}/av1-series-retirement`, `${LEARN}/virtual-machines/sizes-previous-gen`, RETIREMENTS],
  },
  {
    id: "ncv3",
    title: "NCv3-series VM sizes",
    // The VM date; Batch's own date was modified in Azure/Batch#140 on 2026-02-26 and its current value is unconfirmed.
    deadline: "2025-09-30",
    deadlineConfirmed: false,
    regionalDeadlines: { usgovvirginia: "2026-12-31", usgovarizona: "2026-12-31", jioindiawest: "2027-06-30", chinanorth3: "2027-06-30" },
    vmSizeEndOfLife: true,
    severity: "critical",
    target: "pool",
    when: { fact: "vmSize", in: ["Standard_NC6s_v3", "Standard_NC12s_v3", "Standard_NC24s_v3", "Standard_NC24rs_v3"] },
    steps: ["Create a pool with NCads_H100_v5, NCasT4_v3 or NVadsA10_v5 VMs.", "Move jobs to it and delete the old pool."],
    guideUrl: `${VM_RETIREMENT}/ncv3-retirement`,
    sources: [`${VM_RETIREMENT}/ncv3-retirement`, "https://github.com/Azure/EOL", RETIREMENTS],
  },
  {
    id: "hbv2-hc-np",
    title: "HBv2, HC and NP-series VM sizes",
    deadline: "2027-05-31",
    deadlineConfirmed: false,
    milestones: [{ date: "2026-04-02", what: "reserved instance purchases ended" }],
    vmSizeEndOfLife: true,
    severity: "warning",
    target: "pool",
    when: {
      fact: "vmSize",
      in: [
        ...sizes("Standard_HB120", ["rs", "-96rs", "-64rs", "-32rs", "-16rs"], "_v2"),
        ...sizes("Standard_HC44", ["rs", "-16rs", "-32rs"]),
        ...sizes("Standard_NP", [10, 20, 40], "s"),
      ],
    },
    steps: ["Create a pool with HBv3/HBv4/HBv5 or HX VMs (NP: NDv2, NCads_H100_v5 or NCasT4_v3).", "Move jobs to it and delete the old pool: after the date the VMs are deallocated."],
    guideUrl: `${VM_RETIREMENT}/hc-series-retirement`,
    sources: [`${VM_RETIREMENT}/hc-series-retirement`, `${VM_RETIREMENT}/np-series-retirement`, `${LEARN}/virtual-machines/sizes/high-performance-compute/hbv2-series`, RETIREMENTS],
  },
  {
    id: "d-ds-dv2-dsv2-ls",
    title: "D, Ds, Dv2, Dsv2 and Ls-series VM sizes",
    deadline: "2028-05-01",
    deadlineConfirmed: false,
    milestones: [{ date: "2026-07-01", what: "1-year reserved instance purchases end" }],
    vmSizeEndOfLife: true,
    severity: "warning",
    target: "pool",
    when: {
      fact: "vmSize",
      in: [
        ...sizes("Standard_D", [1, 2, 3, 4, 11, 12, 13, 14]),
        ...sizes("Standard_DS", [1, 2, 3, 4, 11, 12, 13, 14]),
        ...sizes("Standard_L", [4, 8, 16, 32], "s"),
        ...sizes("Standard_D", [1, 2, 3, 4, 5, 11, 12, 13, 14, 15], "_v2"),
        ...sizes("Standard_DS", [1, 2, 3, 4, 5, 11, 12, 13, 14, 15], "_v2"),
      ],
    },
    steps: ["Create a pool with a current size (Dsv5, Dsv6, Dasv6; Ls: Lsv3 or Lsv4).", "Move jobs to it and delete the old pool."],
    guideUrl: `${VM_RETIREMENT}/d-ds-dv2-dsv2-ls-series-migration-guide`,
    sources: [`${VM_RETIREMENT}/d-ds-dv2-dsv2-ls-series-migration-guide`, `${LEARN}/virtual-machines/sizes/general-purpose/dv2-series`, RETIREMENTS],
  },
];

/** Every shipped rule, certificate rules first. */
export const BUILT_IN_RULES: readonly RetirementRule[] = [...CERTIFICATE_RULES, ...CATALOGUE_RULES];
