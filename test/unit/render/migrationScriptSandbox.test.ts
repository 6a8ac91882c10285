// Every generated migration script, run by a real bash in a sandbox whose PATH holds only a stub `az` and a stub
// `openssl` (each records its arguments and answers as the script expects), for pools whose every copied field is
// hostile: only az, openssl and the shell's built-ins ever run, nothing writes outside the files the script means to
// write, a value arrives at az as the one argument it was, the script stops with a clear message while a placeholder
// is unfilled, and it never deletes a certificate another pool still references.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFindings } from "../../../src/core/findings.js";
import { addMigrationKits } from "../../../src/core/migrationKit.js";
import type { AccountCertificate, BatchAccountInfo, MigrationKit, PoolInfo } from "../../../src/core/model.js";
import { migrationFiles } from "../../../src/render/migrationFiles.js";

const BASH = "/bin/bash";
const FIELD = "\u001f";
const RECORD = "\u001e";

/**
 * A stub that records its name and arguments (unit and record separators between them), using built-ins only, in one
 * write so the two ends of a pipe cannot interleave their records.
 */
const recorder = (name: string) => `rec=${name}; for a in "$@"; do rec+=$'\\037'"$a"; done; printf '%s\\036' "$rec" >> "$STUB_LOG"`;

const AZ_STUB = `#!${BASH}
${recorder("az")}
case " $* " in
  *"length("*) printf '0\\n' ;;
  *"--query principalId"*) printf '11111111-1111-1111-1111-111111111111\\n' ;;
  *"--query id"*) printf '/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv\\n' ;;
  *"properties.publicData"*) printf 'QUJD\\n' ;;
  *" job-schedule list "*) printf '%s\\n' "$HOSTILE_ID" ;;
  *" job list "*) printf 'job-1\\n%s\\n' "$HOSTILE_ID" ;;
esac
exit 0
`;
const OPENSSL_STUB = `#!${BASH}
${recorder("openssl")}
while IFS= read -r line || [ -n "$line" ]; do :; done
printf 'converted\\n'
`;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "kit-sandbox-"));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Values that would run a command, write a file or split a line if they reached the shell unquoted. */
const payloads = (canary: string) => [
  `$(echo pwned >> ${canary})`,
  `\`echo pwned >> ${canary}\``,
  `';echo pwned >> ${canary};'`,
  `"; echo pwned >> ${canary}; "`,
  `x\necho pwned >> ${canary}`,
  `x\r\necho pwned >> ${canary} #`,
  `x\u2028echo pwned`,
  `> ${canary}`,
  `<REPLACE: not a placeholder>`,
  "${IFS}*",
  "-rf /",
  "'\\''",
  "\\",
  "%s%n",
  "",
];

function hostile(canary: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...payloads(canary)),
    fc.string({ unit: fc.constantFrom("a", "$", "(", ")", "`", "'", '"', ";", "\n", "\\", "|", "&", ">", "<", "*", " ", "#", "!"), maxLength: 12 }),
  );
}

interface Hostile {
  account: string;
  group: string;
  pool: string;
  env: string;
  user: string;
  osFamily: string;
  extension: string;
  registry: string;
  registryUser: string;
  cifs: string;
  blob: string;
  jobId: string;
  kind: "linux" | "windows" | "cloud";
}

const SUB = "00000000-0000-0000-0000-000000000001";
const SHARED = "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334";
const OWN = "ffeeddccbbaa00998877665544332211aabbccdd";

/** The kit of pool A, which references a certificate pool B also uses (Pfx) and one of its own (Cer). */
function kitFor(h: Hostile): MigrationKit {
  const account: BatchAccountInfo = {
    id: `/subscriptions/${SUB}/resourceGroups/${h.group}/providers/Microsoft.Batch/batchAccounts/${h.account}`,
    name: h.account,
    subscriptionId: SUB,
    resourceGroup: h.group,
    location: "westeurope",
    tags: {},
  };
  const cert = (t: string, format: string): AccountCertificate => ({ id: `${account.id}/certificates/sha1-${t}`, name: `sha1-${t}`, accountId: account.id, thumbprint: t, thumbprintAlgorithm: "sha1", format });
  const certificates = [cert(SHARED, "Pfx"), cert(OWN, "Cer")];
  const deployment =
    h.kind === "cloud"
      ? { cloudServiceConfiguration: { osFamily: h.osFamily } }
      : {
          virtualMachineConfiguration: {
            imageReference: h.kind === "windows" ? { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter" } : { publisher: "canonical", offer: "ubuntu-24_04-lts", sku: "server" },
            nodeAgentSkuId: h.kind === "windows" ? "batch.node.windows amd64" : "batch.node.ubuntu 24.04",
            containerConfiguration: { type: "DockerCompatible", containerRegistries: [{ registryServer: h.registry, username: h.registryUser }] },
            extensions: [{ name: h.extension, publisher: "Contoso.Tools", type: "Agent", typeHandlerVersion: "1.0", protectedSettings: {} }],
          },
        };
  const base = { accountId: account.id, accountName: h.account, subscriptionId: SUB, resourceGroup: h.group };
  const a: PoolInfo = {
    ...base,
    id: `${account.id}/pools/${h.pool}`,
    name: h.pool,
    certificateReferences: [{ id: certificates[0]!.id, storeLocation: "CurrentUser", storeName: h.env }, { id: certificates[1]!.id }],
    configuration: {
      properties: {
        vmSize: "STANDARD_D2S_V3",
        deploymentConfiguration: deployment,
        scaleSettings: { fixedScale: { targetDedicatedNodes: 1 } },
        startTask: { commandLine: "echo start", environmentSettings: [{ name: h.env }] },
        userAccounts: [{ name: h.user, elevationLevel: "NonAdmin" }],
        mountConfiguration: [
          { cifsMountConfiguration: { userName: h.user, source: h.cifs, relativeMountPath: "c" } },
          { azureBlobFileSystemConfiguration: { accountName: h.blob, containerName: "c", relativeMountPath: "b" } },
        ],
      },
    },
  };
  const b: PoolInfo = { ...base, id: `${account.id}/pools/other-pool`, name: "other-pool", certificateReferences: [{ id: certificates[0]!.id }] };
  const certs = new Map([[account.id.toLowerCase(), certificates]]);
  const findings = buildFindings({ accounts: [account], certificates: certs, pools: [a, b], subscriptionNames: new Map() });
  const settings = {
    identityId: `/subscriptions/${SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/batch-kv`,
    identityClientId: "22222222-3333-4444-5555-666666666666",
    keyVaultName: "kv-batch",
  };
  const kit = addMigrationKits(findings, [a, b], certs, settings).find((f) => f.resourceId === a.id)?.migration;
  if (!kit) throw new Error("no kit for pool A");
  return kit;
}

/** The owner's part: every placeholder in the script's variables and in the body replaced by a value. */
function fillIn(script: string, body: string): { script: string; body: string } {
  const fill = (value: unknown): unknown =>
    typeof value === "string" ? (value.startsWith("<REPLACE:") ? "filled" : value) : Array.isArray(value) ? value.map(fill) : value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)])) : value;
  return {
    script: script.replace(/^([A-Z_0-9]+)='<REPLACE: [^\n]*?>'(\s+#)/gm, "$1='filled'$2"),
    body: `${JSON.stringify(fill(JSON.parse(body)), null, 2)}\n`,
  };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[][];
  files: string[];
  canary: boolean;
}

function runInSandbox(dir: string, kit: MigrationKit, fill: boolean, jobId: string): Run {
  // Empty each time: fast-check shrinks a failure by running again with the same directory.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "bin"), { recursive: true });
  const log = join(dir, "calls.log");
  writeFileSync(join(dir, "bin", "az"), AZ_STUB);
  writeFileSync(join(dir, "bin", "openssl"), OPENSSL_STUB);
  chmodSync(join(dir, "bin", "az"), 0o755);
  chmodSync(join(dir, "bin", "openssl"), 0o755);
  const files = migrationFiles(kit);
  const script = files.find((f) => f.name.endsWith(".sh"))!;
  const body = files.find((f) => f.name.endsWith(".json"))!;
  const content = fill ? fillIn(script.content, body.content) : { script: script.content, body: body.content };
  writeFileSync(join(dir, script.name), content.script);
  writeFileSync(join(dir, body.name), content.body);
  writeFileSync(log, "");
  const result = spawnSync(BASH, [`./${script.name}`], {
    cwd: dir,
    env: { PATH: join(dir, "bin"), STUB_LOG: log, HOSTILE_ID: jobId, HOME: dir },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: 20_000,
  });
  const calls = readFileSync(log, "utf8")
    .split(RECORD)
    .filter(Boolean)
    .map((r) => r.split(FIELD));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls, files: readdirSync(dir), canary: existsSync(join(dir, "canary")) };
}

let runs = 0;
const sandbox = () => {
  const dir = join(root, `run-${++runs}`);
  mkdirSync(dir);
  return dir;
};

describe("the migration script in a sandbox, for hostile values in every field it copies", () => {
  it("runs only az, openssl and built-ins, writes only its own files, hands each value to az whole, and deletes no certificate another pool uses", () => {
    fc.assert(
      fc.property(
        fc.constant(null).chain(() => {
          const dir = sandbox();
          const h = hostile(join(dir, "canary"));
          return fc.record({
            dir: fc.constant(dir),
            account: h,
            group: h,
            pool: h,
            env: h,
            user: h,
            osFamily: h,
            extension: h,
            registry: h,
            registryUser: h,
            cifs: h,
            blob: h,
            jobId: h.filter((v) => v.length > 0 && !/[\n\r]/.test(v)),
            kind: fc.constantFrom("linux" as const, "windows" as const, "cloud" as const),
          });
        }),
        (h) => {
          const kit = kitFor(h);
          const run = runInSandbox(h.dir, kit, true, h.jobId);
          expect(run.stderr, run.stderr).not.toMatch(/command not found|No such file/);
          expect(run.status, run.stderr).toBe(0);
          expect(run.stdout).toContain("Done:");
          expect(run.canary).toBe(false);
          expect(new Set(run.calls.map((c) => c[0]))).toEqual(new Set(["az", "openssl"]));
          const expected = new Set(["bin", "calls.log", kit.fileName, kit.fileName.replace(/\.json$/, ".sh"), kit.fileName.replace(/\.json$/, ".jobs-moved")]);
          expect(run.files.filter((f) => !expected.has(f))).toEqual([]);
          // The job id Azure returned reached az as one argument, unchanged.
          expect(run.calls.some((c) => c.includes("disable") && c[c.indexOf("--job-id") + 1] === h.jobId)).toBe(true);
          // The pool's own name reached the delete as one argument.
          expect(run.calls.some((c) => c[2] === "pool" && c[3] === "delete" && c[c.indexOf("--pool-id") + 1] === h.pool)).toBe(true);
          const deletes = run.calls.filter((c) => c[1] === "rest" && c[c.indexOf("--method") + 1] === "delete").map((c) => c[c.indexOf("--url") + 1] ?? "");
          expect(deletes.some((u) => u.includes(`/certificates/sha1-${SHARED}`))).toBe(false);
          expect(deletes.filter((u) => u.includes(`/certificates/sha1-${OWN}`))).toHaveLength(1);
          expect(run.calls.some((c) => c[1] === "rest" && c.includes("If-None-Match=*") && c.includes("put"))).toBe(true);
        },
      ),
      { numRuns: 10 },
    );
  }, 180_000);

  it("stops before running anything, saying what to fill in, while a placeholder is unfilled", () => {
    fc.assert(
      fc.property(
        fc.constant(null).chain(() => {
          const dir = sandbox();
          const h = hostile(join(dir, "canary"));
          return fc.record({ dir: fc.constant(dir), account: h, group: h, pool: h, env: h, user: h, osFamily: h, extension: h, registry: h, registryUser: h, cifs: h, blob: h, jobId: fc.constant("job"), kind: fc.constantFrom("linux" as const, "windows" as const, "cloud" as const) });
        }),
        (h) => {
          const run = runInSandbox(h.dir, kitFor(h), false, h.jobId);
          expect(run.status).not.toBe(0);
          expect(run.stderr).toMatch(/^Stopped: fill in every <REPLACE: \.\.\.> /m);
          expect(run.calls).toEqual([]);
          expect(run.canary).toBe(false);
        },
      ),
      { numRuns: 5 },
    );
  }, 120_000);
});
