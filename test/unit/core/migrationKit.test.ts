import { describe, expect, it } from "vitest";
import { buildFindings } from "../../../src/core/findings.js";
import { addMigrationKits, buildMigrationKit, compactPoolConfigurationOfText, holdKitRecipesDeflated, isMigratedPool, KEY_VAULT_EXTENSION, LINUX_CERTIFICATE_FOLDER, poolConfigurationText } from "../../../src/core/migrationKit.js";
import { jsonChunks } from "../../../src/report/textChunks.js";
import type { AccountCertificate, BatchAccountInfo, Finding, PoolInfo } from "../../../src/core/model.js";
import { poolSchemaErrors } from "../../support/poolSchema.js";

function expectValidPool(body: unknown): void {
  expect(poolSchemaErrors(body)).toEqual([]);
}

const ACCOUNT: BatchAccountInfo = {
  id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-render/providers/Microsoft.Batch/batchAccounts/renderbatch",
  name: "renderbatch",
  subscriptionId: "00000000-0000-0000-0000-000000000001",
  resourceGroup: "rg-render",
  location: "westeurope",
  tags: {},
};
const T1 = "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334";
const T2 = "ffeeddccbbaa00998877665544332211aabbccdd";
const certId = (t: string, upper = false) => `${ACCOUNT.id}/certificates/${upper ? `SHA1-${t.toUpperCase()}` : `sha1-${t}`}`;
const cert = (t: string, format = "Pfx"): AccountCertificate => ({ id: certId(t), name: `sha1-${t}`, accountId: ACCOUNT.id, thumbprint: t, thumbprintAlgorithm: "sha1", format });

/** A Windows pool carrying most of what PoolProperties can hold, shaped like the official PoolCreate_* examples. */
const windowsPool: PoolInfo = {
  id: `${ACCOUNT.id}/pools/render-pool`,
  name: "render-pool",
  accountId: ACCOUNT.id,
  accountName: ACCOUNT.name,
  subscriptionId: ACCOUNT.subscriptionId,
  resourceGroup: ACCOUNT.resourceGroup,
  certificateReferences: [
    { id: certId(T1), storeLocation: "LocalMachine", storeName: "Root", visibility: ["StartTask"] },
    { id: certId(T1, true), storeLocation: "LocalMachine", storeName: "Root" },
    { id: certId(T2), storeLocation: "CurrentUser", storeName: "My", visibility: ["Task"] },
  ],
  configuration: {
    properties: {
      displayName: "Render farm",
      vmSize: "STANDARD_D4S_V3",
      provisioningState: "Succeeded",
      allocationState: "Steady",
      creationTime: "2023-01-01T00:00:00Z",
      currentDedicatedNodes: 3,
      currentNodeCommunicationMode: "Simplified",
      deploymentConfiguration: {
        virtualMachineConfiguration: {
          imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-smalldisk", version: "latest" },
          nodeAgentSkuId: "batch.node.windows amd64",
          windowsConfiguration: { enableAutomaticUpdates: false },
          licenseType: "Windows_Server",
          dataDisks: [{ lun: 0, diskSizeGB: 128, caching: "ReadWrite", storageAccountType: "Premium_LRS" }],
          containerConfiguration: {
            type: "DockerCompatible",
            containerImageNames: ["contoso.azurecr.io/render:1"],
            containerRegistries: [{ registryServer: "contoso.azurecr.io", username: "render" }],
          },
          osDisk: { ephemeralOSDiskSettings: { placement: "CacheDisk" } },
          nodePlacementConfiguration: { policy: "Zonal" },
          extensions: [{ name: "av", publisher: "Microsoft.Azure.Security", type: "IaaSAntimalware", typeHandlerVersion: "1.3", protectedSettings: {} }],
        },
      },
      scaleSettings: { autoScale: { formula: "$TargetDedicatedNodes=3", evaluationInterval: "PT5M" } },
      interNodeCommunication: "Enabled",
      networkConfiguration: {
        subnetId: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/batch",
        publicIPAddressConfiguration: { provision: "NoPublicIPAddresses" },
      },
      taskSlotsPerNode: 4,
      taskSchedulingPolicy: { nodeFillType: "Pack" },
      userAccounts: [{ name: "renderer", elevationLevel: "Admin", windowsUserConfiguration: { loginMode: "Batch" } }],
      metadata: [{ name: "team", value: "render" }],
      startTask: {
        commandLine: "cmd /c setup.cmd",
        environmentSettings: [{ name: "MODE", value: "prod" }, { name: "LICENSE_KEY" }],
        userIdentity: { autoUser: { scope: "Pool", elevationLevel: "Admin" } },
        waitForSuccess: true,
      },
      certificates: [{ id: certId(T1) }],
      applicationPackages: [{ id: `${ACCOUNT.id}/applications/blender`, version: "4.1" }],
      mountConfiguration: [{ azureFileShareConfiguration: { accountName: "assets", azureFileUrl: "https://assets.file.core.windows.net/share", relativeMountPath: "assets" } }],
      targetNodeCommunicationMode: "Simplified",
    },
    identity: { type: "UserAssigned", userAssignedIdentities: { "/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/existing": { principalId: "p", clientId: "c" } } },
  },
};

const linuxPool: PoolInfo = {
  ...windowsPool,
  id: `${ACCOUNT.id}/pools/align-pool`,
  name: "align-pool",
  certificateReferences: [{ id: certId(T2), storeLocation: "CurrentUser", storeName: "My" }],
  configuration: {
    properties: {
      vmSize: "STANDARD_D2S_V3",
      currentDedicatedNodes: 2,
      currentLowPriorityNodes: 1,
      deploymentConfiguration: {
        virtualMachineConfiguration: { imageReference: { publisher: "canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts" }, nodeAgentSkuId: "batch.node.ubuntu 22.04" },
      },
    },
  },
};

function findingsFor(pools: PoolInfo[], certificates: AccountCertificate[] | "unknown" = [cert(T1), cert(T2, "Cer")]): Finding[] {
  const certs = new Map<string, AccountCertificate[] | "unknown">([[ACCOUNT.id.toLowerCase(), certificates]]);
  const findings = buildFindings({ accounts: [ACCOUNT], certificates: certs, pools, subscriptionNames: new Map() });
  return addMigrationKits(findings, pools, certs, {});
}

function kitOf(findings: Finding[], pool: string) {
  const kit = findings.find((f) => f.poolName === pool)?.migration;
  if (!kit) throw new Error(`no kit for ${pool}`);
  return kit;
}

function keyVaultExtensions(body: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const vmc = (body?.properties as { deploymentConfiguration: { virtualMachineConfiguration: { extensions: Record<string, unknown>[] } } }).deploymentConfiguration.virtualMachineConfiguration;
  return vmc.extensions.filter((e) => e.publisher === KEY_VAULT_EXTENSION.publisher);
}

describe("migration kit: the replacement pool", () => {
  it("rebuilds a Windows pool as a 2024-07-01 body that validates, without certificates, with a user-assigned identity and one KeyVaultForWindows extension observing each distinct certificate in LocalMachine, under its old store name, readable by the pool's named users", () => {
    const kit = kitOf(findingsFor([windowsPool]), "render-pool");
    const body = kit.replacementPool;
    expectValidPool(body);
    const properties = body?.properties as Record<string, unknown>;
    expect(properties.certificates).toBeUndefined();
    expect(properties.provisioningState).toBeUndefined();
    expect(properties.currentNodeCommunicationMode).toBeUndefined();
    expect(body?.identity).toMatchObject({ type: "UserAssigned" });
    expect(Object.keys((body?.identity as { userAssignedIdentities: object }).userAssignedIdentities)).toEqual([
      "/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/existing",
      "<REPLACE: resource id of a user-assigned managed identity>",
    ]);
    const [extension, ...others] = keyVaultExtensions(body);
    expect(others).toEqual([]);
    expect(extension).toMatchObject({ type: "KeyVaultForWindows", publisher: "Microsoft.Azure.KeyVault", typeHandlerVersion: "3.0" });
    const settings = extension?.settings as { secretsManagementSettings: { observedCertificates: unknown[] }; authenticationSettings: { msiClientId: string } };
    expect(settings.secretsManagementSettings.observedCertificates).toEqual([
      { url: `https://<REPLACE: key vault name>.vault.azure.net/secrets/sha1-${T1}`, certificateStoreName: "Root", certificateStoreLocation: "LocalMachine", accounts: ["renderer"] },
      // A Cer has no private key, so no account is given read access to one.
      { url: `https://<REPLACE: key vault name>.vault.azure.net/secrets/sha1-${T2}`, certificateStoreName: "My", certificateStoreLocation: "LocalMachine" },
    ]);
    expect(settings.authenticationSettings.msiClientId).toBe("<REPLACE: client id of that identity>");
    // The Windows extension takes no msiEndpoint (Learn key-vault-windows); the Linux one is tested below.
    expect(settings.authenticationSettings).not.toHaveProperty("msiEndpoint");
    expect(kit.os).toBe("windows");
  });

  it("carries vmSize, image, node agent, disks, containers, placement, licence, scale, network, start task, packages, slots, scheduling, metadata, mounts, users and communication mode over", () => {
    const body = kitOf(findingsFor([windowsPool]), "render-pool").replacementPool as { properties: Record<string, unknown> };
    const source = windowsPool.configuration!.properties;
    for (const key of ["vmSize", "displayName", "scaleSettings", "interNodeCommunication", "networkConfiguration", "taskSlotsPerNode", "taskSchedulingPolicy", "metadata", "applicationPackages", "targetNodeCommunicationMode"]) {
      expect(body.properties[key], key).toEqual(source[key]);
    }
    const vmc = (body.properties.deploymentConfiguration as { virtualMachineConfiguration: Record<string, unknown> }).virtualMachineConfiguration;
    const old = (source.deploymentConfiguration as { virtualMachineConfiguration: Record<string, unknown> }).virtualMachineConfiguration;
    for (const key of ["imageReference", "nodeAgentSkuId", "windowsConfiguration", "licenseType", "dataDisks", "osDisk", "nodePlacementConfiguration"]) expect(vmc[key], key).toEqual(old[key]);
    expect((vmc.extensions as { name: string }[]).map((e) => e.name)).toEqual(["av", "KeyVaultForWindows"]);
    expect(body.properties.startTask).toMatchObject({ commandLine: "cmd /c setup.cmd", userIdentity: { autoUser: { scope: "Pool", elevationLevel: "Admin" } } });
  });

  it("leaves values Azure never returns as named placeholders: user password, registry password, start task value, file share key, extension protected settings", () => {
    const kit = kitOf(findingsFor([windowsPool]), "render-pool");
    expect(kit.placeholders).toEqual(
      expect.arrayContaining([
        "<REPLACE: password of user account renderer>",
        "<REPLACE: password for registry contoso.azurecr.io user render>",
        "<REPLACE: start task environment value LICENSE_KEY>",
        "<REPLACE: account key of storage account assets>",
        "<REPLACE: protected settings of extension av>",
        `<REPLACE: password of sha1-${T1}.pfx>`,
      ]),
    );
    const text = JSON.stringify(kit.replacementPool);
    for (const p of kit.placeholders.filter((p) => !p.includes(".pfx"))) expect(text).toContain(p);
    // The source is not changed while the copy is scrubbed.
    expect(JSON.stringify(windowsPool.configuration)).not.toContain("REPLACE");
  });

  it("gives a Linux pool KeyVaultForLinux with the certificate folder, keeps today's size when it had no scale settings, and says tasks must read the files elevated", () => {
    const kit = kitOf(findingsFor([linuxPool]), "align-pool");
    expectValidPool(kit.replacementPool);
    const [extension] = keyVaultExtensions(kit.replacementPool);
    expect(extension).toMatchObject({ type: "KeyVaultForLinux", typeHandlerVersion: "3.0" });
    expect((extension?.settings as { authenticationSettings: { msiEndpoint: string } }).authenticationSettings.msiEndpoint).toBe("http://169.254.169.254/metadata/identity");
    expect((extension?.settings as { secretsManagementSettings: { observedCertificates: unknown[] } }).secretsManagementSettings.observedCertificates).toEqual([
      { url: `https://<REPLACE: key vault name>.vault.azure.net/secrets/sha1-${T2}`, certificateStoreLocation: LINUX_CERTIFICATE_FOLDER },
    ]);
    expect((kit.replacementPool?.properties as Record<string, unknown>).scaleSettings).toEqual({ fixedScale: { targetDedicatedNodes: 2, targetLowPriorityNodes: 1 } });
    expect(kit.notes.join("\n")).toMatch(/root only.*AZ_BATCH_CERTIFICATES_DIR/s);
    expect(kit.notes.join("\n")).toMatch(/Cer certificate/);
  });

  it("replaces a CloudServiceConfiguration pool with Windows Server 2022, the oldest the Key Vault extension supports, and says which OS family it was", () => {
    const cloud: PoolInfo = {
      ...linuxPool,
      id: `${ACCOUNT.id}/pools/legacy`,
      name: "legacy",
      configuration: { properties: { vmSize: "small", deploymentConfiguration: { cloudServiceConfiguration: { osFamily: "6", osVersion: "*" } }, scaleSettings: { fixedScale: { targetDedicatedNodes: 1 } } } },
    };
    const kit = kitOf(findingsFor([cloud]), "legacy");
    expectValidPool(kit.replacementPool);
    const vmc = ((kit.replacementPool?.properties as Record<string, unknown>).deploymentConfiguration as { virtualMachineConfiguration: Record<string, unknown> }).virtualMachineConfiguration;
    expect(vmc.imageReference).toEqual({ publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter", version: "latest" });
    expect(vmc.nodeAgentSkuId).toBe("batch.node.windows amd64");
    expect(keyVaultExtensions(kit.replacementPool)[0]?.type).toBe("KeyVaultForWindows");
    expect(kit.notes.join("\n")).toMatch(/CloudServiceConfiguration \(osFamily 6, Windows Server 2019\).*Windows Server 2022/);
    expect(kit.warnings).toEqual([]);
  });

  it("generates no body for a pool known only from Resource Graph, and says why instead of guessing", () => {
    const { configuration: _none, ...graphOnly } = linuxPool;
    const kit = kitOf(findingsFor([graphOnly]), "align-pool");
    expect(kit.replacementPool).toBeUndefined();
    expect(kit.unavailable).toMatch(/known only from Resource Graph/);
    expect(kit.commands.some((c) => c.includes("az keyvault certificate import") || c.includes("az keyvault secret set"))).toBe(true);
  });

  it("uses the configured identity and Key Vault instead of placeholders", () => {
    const identityId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/batch-kv";
    const finding = buildFindings({ accounts: [ACCOUNT], certificates: new Map([[ACCOUNT.id.toLowerCase(), [cert(T2)]]]), pools: [linuxPool], subscriptionNames: new Map() }).find(
      (f) => f.kind === "pool-certificate-reference",
    );
    const kit = buildMigrationKit({
      finding: finding!,
      pool: linuxPool,
      certificates: [cert(T2)],
      settings: { identityId, identityClientId: "11111111-2222-3333-4444-555555555555", keyVaultName: "kv-batch" },
    });
    expectValidPool(kit.replacementPool);
    expect(JSON.stringify(kit.replacementPool)).not.toContain("REPLACE");
    expect(JSON.stringify(kit.replacementPool)).toContain(`https://kv-batch.vault.azure.net/secrets/sha1-${T2}`);
    expect(kit.commands).toContain(`IDENTITY_ID=${identityId}  # the new pools' user-assigned identity`);
    expect(kit.commands.join("\n")).toContain(`az identity show --ids "$IDENTITY_ID"`);
    expect(kit.commands.join("\n")).not.toContain("az identity create");
  });

  it("lists the az CLI steps in order: Key Vault role, import, conditional create from the file, wait for the nodes, move schedules and jobs, delete the pool, delete the certificates", () => {
    const kit = kitOf(findingsFor([windowsPool]), "render-pool");
    const order = [
      "Key Vault Secrets User",
      "az keyvault certificate import",
      "az rest --method put --headers 'If-None-Match=*'",
      "az resource wait",
      "az batch job-schedule set",
      "az batch job set",
      "az batch pool delete --pool-id render-pool",
      "az rest --method delete",
    ];
    const positions = order.map((needle) => kit.commands.findIndex((c) => c.includes(needle)));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(kit.commands.find((c) => c.includes("az rest --method put"))).toContain(`--body "@$BODY"`);
    expect(kit.commands).toContain(`BODY=${kit.fileName}`);
    expect(kit.replacementPoolName).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });

  it("tells the owner that a dangling reference is not in the account, and does not try to delete it", () => {
    const dangling: PoolInfo = { ...linuxPool, certificateReferences: [{ id: `${ACCOUNT.id}/certificates/sha1-0000000000000000000000000000000000000000` }] };
    const kit = kitOf(findingsFor([dangling], [cert(T1)]), "align-pool");
    expect(kit.notes.join("\n")).toMatch(/not a certificate of the account/);
    expect(kit.commands.some((c) => c.includes("/certificates/sha1-0000"))).toBe(false);
  });
});

describe("the 2024-07-01 schema check", () => {
  it("refuses a body with certificates of the wrong shape, a misspelt property or a value outside an enum", () => {
    const body = kitOf(findingsFor([linuxPool]), "align-pool").replacementPool as { properties: Record<string, unknown> };
    expect(poolSchemaErrors({ ...body, properties: { ...body.properties, certificates: [{ storeLocation: "Nowhere" }] } })).not.toEqual([]);
    expect(poolSchemaErrors({ ...body, properties: { ...body.properties, vmsize: "x" } })).not.toEqual([]);
    expect(poolSchemaErrors({ ...body, properties: { ...body.properties, interNodeCommunication: "Maybe" } })).not.toEqual([]);
  });
});

describe("migration kit: migrated pools", () => {
  it("counts a pool with a Key Vault extension and no certificate references as migrated, and one with references as not", () => {
    const kit = kitOf(findingsFor([linuxPool]), "align-pool");
    const migrated = { properties: kit.replacementPool?.properties as Record<string, unknown> };
    expect(isMigratedPool(migrated, 0)).toBe(true);
    expect(isMigratedPool(migrated, 1)).toBe(false);
    expect(isMigratedPool(linuxPool.configuration, 0)).toBe(false);
  });
});

describe("migration kit: kept as its inputs", () => {
  const KEYS = ["poolName", "replacementPoolName", "fileName", "os", "replacementPool", "apiVersion", "placeholders", "notes", "warnings", "variables", "commands", "certificates"];

  it("reads and serialises like a plain object: the same keys in the same order, JSON.stringify and the streamed JSON alike", () => {
    const kit = kitOf(findingsFor([windowsPool]), "render-pool");
    expect(Object.keys(kit)).toEqual(KEYS);
    const plain: Record<string, unknown> = {};
    for (const key of KEYS) plain[key] = (kit as unknown as Record<string, unknown>)[key];
    expect(plain.commands).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}az keyvault certificate import/)]));
    expect(plain.replacementPool).toMatchObject({ identity: { type: "UserAssigned" } });
    const text = JSON.stringify(plain, null, 2);
    expect(JSON.stringify(kit, null, 2)).toBe(text);
    for (const depth of [0, 1, 2, 3]) expect([...jsonChunks({ findings: [{ migration: kit }] }, depth)].join("")).toBe(JSON.stringify({ findings: [{ migration: plain }] }, null, 2));
    expect({ ...kit }).toEqual(plain);
  });

  it("gives the same body, variables and commands on every read, a fresh copy each time, and holds a value assigned to them", () => {
    const kit = kitOf(findingsFor([windowsPool]), "render-pool");
    const variables = kit.variables;
    expect(variables.map((v) => v.name)).toContain("VAULT");
    variables[0]!.value = "changed by a reader";
    expect(kit.variables).not.toEqual(variables);
    expect(kit.variables.slice(1)).toEqual(variables.slice(1));
    kit.variables = [{ name: "VAULT", value: "kv-held" }];
    expect(kit.variables).toEqual([{ name: "VAULT", value: "kv-held" }]);
    const first = kit.commands;
    first.push("changed by a reader");
    expect(kit.commands).not.toContain("changed by a reader");
    expect(kit.commands).toEqual(first.slice(0, -1));
    expect(kit.replacementPool).toEqual(kit.replacementPool);
    expect(kit.replacementPool).not.toBe(kit.replacementPool);
    kit.commands = ["echo one"];
    expect(kit.commands).toEqual(["echo one"]);
    expect(Object.keys(kit)).toEqual(KEYS);
  });

  it("gives each kit its own notes, warnings and placeholders, whatever order kits are read in", () => {
    const findings = findingsFor([windowsPool, linuxPool]);
    const own = (name: string) => {
      const kit = kitOf(findings, name);
      return { notes: kit.notes, warnings: kit.warnings, placeholders: kit.placeholders };
    };
    const windows = own("render-pool");
    const linux = own("align-pool");
    expect(linux.notes).not.toEqual(windows.notes);
    expect(linux.notes.some((n) => n.startsWith("On Linux"))).toBe(true);
    expect(windows.notes.some((n) => n.startsWith("On Linux"))).toBe(false);
    // Read interleaved, property by property: each read answers for its own kit.
    const w = kitOf(findings, "render-pool");
    const l = kitOf(findings, "align-pool");
    expect([w.notes, l.notes, w.warnings, l.warnings, w.placeholders, l.placeholders]).toEqual([windows.notes, linux.notes, windows.warnings, linux.warnings, windows.placeholders, linux.placeholders]);
    w.notes.push("changed by a reader");
    expect(w.notes).toEqual(windows.notes);
  });

  it("names the other pools that still use a certificate in name order, whatever order the pools were read in", () => {
    // Three more pools reference T2 with the Linux pool; reads finish in any order, so the kit must not follow them.
    const sharing = ["zeta-pool", "Beta-pool", "alpha-pool"].map((name): PoolInfo => ({ ...linuxPool, id: `${ACCOUNT.id}/pools/${name}`, name }));
    const certs = new Map<string, AccountCertificate[] | "unknown">([[ACCOUNT.id.toLowerCase(), [cert(T1), cert(T2, "Cer")]]]);
    // The findings in the pools' order too (the audit notes them as their accounts are gathered).
    const note = (pools: PoolInfo[]) => {
      const findings = buildFindings({ accounts: [ACCOUNT], certificates: certs, pools, subscriptionNames: new Map() });
      const inPoolOrder = pools.flatMap((p) => findings.filter((f) => f.poolName === p.name));
      return kitOf(addMigrationKits(inPoolOrder, pools, certs, {}), "align-pool").notes.find((n) => n.includes("is also used by"));
    };
    const read = note([linuxPool, ...sharing]);
    expect(read).toContain("is also used by pools alpha-pool, Beta-pool, zeta-pool,");
    expect(note([...sharing].reverse().concat(linuxPool))).toBe(read);
    expect(note([sharing[1] as PoolInfo, linuxPool, sharing[2] as PoolInfo, sharing[0] as PoolInfo])).toBe(read);
  });

  it("lists a kit's notes in a fixed order and deletes only the certificates no other pool uses", () => {
    const T3 = "0000000000000000000000000000000000000003";
    const T4 = "0000000000000000000000000000000000000004";
    const mixed: PoolInfo = {
      ...linuxPool,
      certificateReferences: [
        { id: certId(T1), storeLocation: "CurrentUser", storeName: "My", visibility: ["Task"] },
        { id: certId(T2), storeLocation: "CurrentUser", storeName: "My" },
        { id: certId(T3), storeLocation: "CurrentUser", storeName: "My" },
        { id: certId(T4), storeLocation: "CurrentUser", storeName: "My" },
      ],
    };
    // T1 and T2 (a Cer) are used by the Windows pool too, T4 by this pool alone; T3 is not a certificate of the account.
    const kit = kitOf(findingsFor([windowsPool, mixed], [cert(T1), cert(T2, "Cer"), cert(T4)]), "align-pool");
    const tag = (note: string) =>
      note.includes("is not a certificate of the account")
        ? `dangling ${note.slice(0, 12)}`
        : note.includes("is a Cer certificate")
          ? `cer ${note.slice(0, 12)}`
          : note.includes("was visible to tasks")
            ? `task ${note.slice(0, 12)}`
            : note.startsWith("On Linux")
              ? "linux"
              : note.includes("is also used by")
                ? `shared ${note.slice(0, 12)}`
                : `body: ${note.slice(0, 40)}`;
    expect(kit.notes.map(tag)).toMatchInlineSnapshot(`
      [
        "body: The pool reported no scale settings: the",
        "task sha1-a1b2c3d",
        "cer sha1-ffeeddc",
        "dangling sha1-0000000",
        "linux",
        "shared sha1-a1b2c3d",
        "shared sha1-ffeeddc",
      ]
    `);
    expect(kit.certificates.map((c) => [c.secretName, c.inAccount, c.deletedByKit ?? false])).toMatchInlineSnapshot(`
      [
        [
          "sha1-a1b2c3d4e5f60718293a4b5c6d7e8f9001122334",
          true,
          false,
        ],
        [
          "sha1-ffeeddccbbaa00998877665544332211aabbccdd",
          true,
          false,
        ],
        [
          "sha1-0000000000000000000000000000000000000003",
          false,
          false,
        ],
        [
          "sha1-0000000000000000000000000000000000000004",
          true,
          true,
        ],
      ]
    `);
    expect(kit.placeholders).toMatchInlineSnapshot(`
      [
        "<REPLACE: key vault name>",
        "<REPLACE: client id of that identity>",
        "<REPLACE: resource id of a user-assigned managed identity>",
        "<REPLACE: password of sha1-a1b2c3d4e5f60718293a4b5c6d7e8f9001122334.pfx>",
        "<REPLACE: password of sha1-0000000000000000000000000000000000000004.pfx>",
      ]
    `);
  });

  it("reads and serialises the same once its recipe is held deflated, settings and a pool known only from Resource Graph included", () => {
    const { configuration: _none, ...graphOnly } = { ...linuxPool, id: `${ACCOUNT.id}/pools/graph-pool`, name: "graph-pool" };
    // As the audit gives them: configurations held as text; and a reference to a certificate the account does not hold
    // (referenced, not observed).
    const compact = (pool: PoolInfo): PoolInfo => ({ ...pool, configuration: compactPoolConfigurationOfText(poolConfigurationText(pool.configuration!)) });
    const dangling = `${ACCOUNT.id}/certificates/sha1-${"0".repeat(39)}9`;
    const pools = [compact({ ...windowsPool, certificateReferences: [...windowsPool.certificateReferences, { id: dangling, storeLocation: "LocalMachine", storeName: "My" }] }), compact(linuxPool), graphOnly];
    const certs = new Map<string, AccountCertificate[] | "unknown">([[ACCOUNT.id.toLowerCase(), [cert(T1), cert(T2, "Cer")]]]);
    const settings = { keyVaultName: "kv-batch", identityClientId: "11111111-2222-3333-4444-555555555555" };
    const findings = addMigrationKits(buildFindings({ accounts: [ACCOUNT], certificates: certs, pools, subscriptionNames: new Map() }), pools, certs, settings);
    const names = ["render-pool", "align-pool", "graph-pool"];
    const before = names.map((name) => JSON.stringify(kitOf(findings, name)));
    expect(before.join("")).toContain("kv-batch");
    expect(before[0]).toContain("az keyvault certificate import");
    expect(before[0]).toContain("is referenced by the pool but is not a certificate of the account");

    expect(holdKitRecipesDeflated(findings)).toBeGreaterThan(0);
    // Held once: a second call finds nothing left to hold.
    expect(holdKitRecipesDeflated(findings)).toBe(0);
    expect(names.map((name) => JSON.stringify(kitOf(findings, name)))).toEqual(before);
    // Read interleaved, property by property (each read answers for its own kit), and a fresh copy each time.
    const [w, l, g] = names.map((name) => kitOf(findings, name));
    const plain = before.map((text) => JSON.parse(text) as Record<string, unknown>);
    expect([w!.notes, l!.notes, g!.notes, w!.commands, l!.commands, g!.commands]).toEqual([plain[0]!.notes, plain[1]!.notes, plain[2]!.notes, plain[0]!.commands, plain[1]!.commands, plain[2]!.commands]);
    expect(w!.replacementPool).not.toBe(w!.replacementPool);
    expect(g!.replacementPool).toBeUndefined();
    expect(Object.keys(w!)).toEqual(KEYS);
    // A value assigned is held, as before.
    w!.commands = ["echo one"];
    expect(w!.commands).toEqual(["echo one"]);
    for (const depth of [0, 2, 3]) expect([...jsonChunks({ findings: [{ migration: l }] }, depth)].join("")).toBe(JSON.stringify({ findings: [{ migration: plain[1] }] }, null, 2));
  });

  it("builds the same kit from a configuration held as text as from the parsed one", () => {
    const compact = compactPoolConfigurationOfText(poolConfigurationText(windowsPool.configuration!));
    expect(compact.properties).toEqual(windowsPool.configuration?.properties);
    expect(compact.identity).toEqual(windowsPool.configuration?.identity);
    expect(compact.identity).not.toBeUndefined();
    expect(JSON.stringify(compact)).toBe(JSON.stringify(windowsPool.configuration));
    // Each read is a fresh parse: a caller that edits what it read does not change the configuration.
    (compact.properties as Record<string, unknown>).vmSize = "edited";
    expect(compact.properties.vmSize).toBe(windowsPool.configuration?.properties.vmSize);
    const fromCompact = kitOf(findingsFor([{ ...windowsPool, configuration: compact }]), "render-pool");
    const fromPlain = kitOf(findingsFor([windowsPool]), "render-pool");
    expect(JSON.stringify(fromCompact)).toBe(JSON.stringify(fromPlain));
    expect(isMigratedPool(compact, 0)).toBe(isMigratedPool(windowsPool.configuration, 0));
  });
});
