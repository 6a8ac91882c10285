// A realistic audit of a small tenant for rendering tests: three subscriptions, eight Batch accounts
// (one unreadable with a 403), account certificates and pools that still reference them.
import { REPORT_SCHEMA_VERSION, RETIREMENT_DATE, type AuditReport, type Finding, type AccountCoverage } from "../../src/core/model.js";
import type { ReportExtras } from "../../src/render/reportHtml.js";

const SUBS = [
  { id: "6f1d2c3b-0a9e-4c5d-8e7f-1a2b3c4d5e01", name: "contoso-research-prod" },
  { id: "6f1d2c3b-0a9e-4c5d-8e7f-1a2b3c4d5e02", name: "contoso-render-farm" },
  { id: "6f1d2c3b-0a9e-4c5d-8e7f-1a2b3c4d5e03", name: "contoso-sandbox" },
] as const;

interface AccountSpec {
  name: string;
  sub: 0 | 1 | 2;
  rg: string;
  status: "audited" | "failed";
  certificates: number | "unknown";
  reason?: string;
}

const ACCOUNTS: AccountSpec[] = [
  { name: "genomicsbatch", sub: 0, rg: "rg-genomics", status: "audited", certificates: 2 },
  { name: "climatesim", sub: 0, rg: "rg-climate", status: "audited", certificates: 1 },
  { name: "proteinfold", sub: 0, rg: "rg-protein", status: "audited", certificates: 0 },
  { name: "renderfarmweu", sub: 1, rg: "rg-render-weu", status: "audited", certificates: 2 },
  { name: "renderfarmeus", sub: 1, rg: "rg-render-eus", status: "audited", certificates: 1 },
  {
    name: "transcodebatch",
    sub: 1,
    rg: "rg-media",
    status: "failed",
    certificates: "unknown",
    reason:
      "403 AuthorizationFailed: The client 'batch-cert-auditor' does not have authorization to perform action 'Microsoft.Batch/batchAccounts/certificates/read'.",
  },
  { name: "sandboxbatch", sub: 2, rg: "rg-sandbox", status: "audited", certificates: 1 },
  { name: "mlexperiments", sub: 2, rg: "rg-ml", status: "audited", certificates: 0 },
];

function accountId(a: AccountSpec): string {
  const sub = SUBS[a.sub];
  return `/subscriptions/${sub.id}/resourceGroups/${a.rg}/providers/Microsoft.Batch/batchAccounts/${a.name}`;
}

function account(name: string): AccountSpec {
  const a = ACCOUNTS.find((x) => x.name === name);
  if (!a) throw new Error(`no sample account ${name}`);
  return a;
}

function base(a: AccountSpec): Pick<Finding, "subscriptionId" | "subscriptionName" | "resourceGroup" | "accountName" | "accountId"> {
  const sub = SUBS[a.sub];
  return { subscriptionId: sub.id, subscriptionName: sub.name, resourceGroup: a.rg, accountName: a.name, accountId: accountId(a) };
}

function certFinding(
  accountName: string,
  thumbprint: string,
  opts: { severity: "critical" | "warning"; pools: string[]; expiresOn?: string; owners?: string[]; state?: string; detail: string; snoozedUntil?: string; deleteError?: boolean },
): Finding {
  const a = account(accountName);
  const name = `sha1-${thumbprint}`;
  const id = `${accountId(a)}/certificates/${name}`;
  return {
    id: `account-certificate:${id.toLowerCase()}`,
    kind: "account-certificate",
    severity: opts.severity,
    resourceId: id,
    ...base(a),
    certificate: {
      id,
      name,
      accountId: accountId(a),
      thumbprint,
      thumbprintAlgorithm: "sha1",
      format: "Pfx",
      provisioningState: opts.state ?? "Succeeded",
      ...(opts.expiresOn ? { expiresOn: opts.expiresOn } : {}),
      ...(opts.deleteError
        ? {
            deleteCertificateError: {
              code: "CertificateBeingUsed",
              message: "The certificate is in use by 3 compute nodes in pool render-gpu and cannot be deleted.",
            },
          }
        : {}),
      referencedByPools: opts.pools,
    },
    detail: opts.detail,
    ...(opts.owners ? { owners: opts.owners.map((address) => ({ address, source: 'account tag "owner"' })) } : {}),
    ...(opts.snoozedUntil ? { snoozedUntil: opts.snoozedUntil } : {}),
  };
}

function poolFinding(
  accountName: string,
  pool: string,
  refs: { thumbprint: string; resolves: boolean }[],
  opts: { severity: "critical" | "warning"; owners?: string[]; detail: string; ownerProblems?: string[] },
): Finding {
  const a = account(accountName);
  const id = `${accountId(a)}/pools/${pool}`;
  return {
    id: `pool-certificate-reference:${id.toLowerCase()}`,
    kind: "pool-certificate-reference",
    severity: opts.severity,
    resourceId: id,
    ...base(a),
    poolName: pool,
    references: refs.map((r) => ({
      id: `${accountId(a)}/certificates/sha1-${r.thumbprint}`,
      certificateName: `sha1-${r.thumbprint}`,
      storeLocation: "LocalMachine",
      storeName: "My",
      visibility: ["task"],
      resolves: r.resolves,
    })),
    detail: opts.detail,
    ...(opts.owners ? { owners: opts.owners.map((address) => ({ address, source: 'resource group tag "owner"' })) } : {}),
    ...(opts.ownerProblems ? { ownerProblems: opts.ownerProblems } : {}),
  };
}

const T = {
  genomicsA: "0a0e4f50c1d2b3a49586f7e8d9c0b1a2f3e4d5c6",
  genomicsB: "7bd1e0f2a3c4b5d6e7f8091a2b3c4d5e6f708192",
  climate: "c3f5a7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1",
  renderWeuA: "e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e",
  renderWeuB: "44aa55bb66cc77dd88ee99ff00aa11bb22cc33dd",
  renderEus: "9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6",
  sandbox: "1234abcd5678ef901234abcd5678ef901234abcd",
  gone: "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
};

export function sampleReport(): AuditReport {
  const findings: Finding[] = [
    certFinding("genomicsbatch", T.genomicsA, {
      severity: "critical",
      pools: ["align-pool", "variant-calling"],
      expiresOn: "2027-03-14T00:00:00Z",
      owners: ["genomics-platform@contoso.com"],
      detail: "Account certificate still used by 2 pools; pools cannot be resized or recreated with it.",
    }),
    certFinding("genomicsbatch", T.genomicsB, {
      severity: "warning",
      pools: [],
      expiresOn: "2025-08-01T00:00:00Z",
      owners: ["genomics-platform@contoso.com"],
      detail: "Unused account certificate (expired); delete it.",
    }),
    poolFinding("genomicsbatch", "align-pool", [{ thumbprint: T.genomicsA, resolves: true }], {
      severity: "critical",
      owners: ["genomics-platform@contoso.com", "s.ito@contoso.com"],
      detail: "Pool installs an account certificate on its nodes; move it to Key Vault via the VM extension.",
    }),
    poolFinding("genomicsbatch", "variant-calling", [{ thumbprint: T.genomicsA, resolves: true }], {
      severity: "critical",
      owners: ["s.ito@contoso.com"],
      detail: "Pool installs an account certificate on its nodes; move it to Key Vault via the VM extension.",
    }),
    certFinding("climatesim", T.climate, {
      severity: "warning",
      pools: [],
      expiresOn: "2027-01-20T00:00:00Z",
      owners: ["climate-ops@contoso.com"],
      detail: "Unused account certificate; delete it.",
      snoozedUntil: "2026-12-31",
    }),
    certFinding("renderfarmweu", T.renderWeuA, {
      severity: "critical",
      pools: ["render-gpu"],
      expiresOn: "2026-01-05T00:00:00Z",
      state: "Deleting",
      deleteError: true,
      detail: "Delete is blocked: nodes in pool render-gpu still hold the certificate.",
    }),
    certFinding("renderfarmweu", T.renderWeuB, {
      severity: "warning",
      pools: [],
      detail: "Unused account certificate; its public data could not be parsed, expiry unknown.",
    }),
    poolFinding(
      "renderfarmweu",
      "render-gpu",
      [
        { thumbprint: T.renderWeuA, resolves: true },
        { thumbprint: T.gone, resolves: false },
      ],
      {
        severity: "critical",
        detail: "Pool references 2 certificates, one of which no longer exists in the account.",
        ownerProblems: ['tag "owner" on rg-render-weu is not a mail address: "render team"'],
      },
    ),
    certFinding("renderfarmeus", T.renderEus, {
      severity: "critical",
      pools: ["render-cpu"],
      expiresOn: "2026-12-18T00:00:00Z",
      owners: ["render-leads@contoso.com"],
      detail: "Account certificate still used by a pool.",
    }),
    poolFinding("renderfarmeus", "render-cpu", [{ thumbprint: T.renderEus, resolves: true }], {
      severity: "critical",
      owners: ["render-leads@contoso.com"],
      detail: "Pool installs an account certificate on its nodes; move it to Key Vault via the VM extension.",
    }),
    certFinding("sandboxbatch", T.sandbox, {
      severity: "warning",
      pools: [],
      expiresOn: "2025-11-02T00:00:00Z",
      owners: ["m.okafor@contoso.com"],
      detail: "Unused account certificate (expired); delete it.",
    }),
  ];

  const accounts: AccountCoverage[] = ACCOUNTS.map((a) => ({
    id: accountId(a),
    name: a.name,
    subscriptionId: SUBS[a.sub].id,
    status: a.status,
    certificates: a.certificates,
    pools: a.certificates === 0 ? ("not-needed" as const) : ("batch-api" as const),
    ...(a.reason ? { reason: a.reason } : {}),
  }));

  const critical = findings.filter((f) => f.severity === "critical").length;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: "2026-11-26T06:02:41.512Z",
    asOf: "2026-11-26",
    retirementDate: RETIREMENT_DATE,
    deadline: RETIREMENT_DATE,
    daysSinceDeadline: 1001,
    daysSinceRetirement: 1001,
    tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    coverage: {
      complete: false,
      subscriptions: SUBS.map((s) => ({ id: s.id, status: "audited" as const, displayName: s.name })),
      accounts,
      problems: [],
    },
    summary: {
      findings: findings.length,
      critical,
      warning: findings.length - critical,
      accountCertificates: findings.filter((f) => f.kind === "account-certificate").length,
      poolsWithCertificates: findings.filter((f) => f.kind === "pool-certificate-reference").length,
      accountsAudited: accounts.filter((a) => a.status === "audited").length,
      accountsFailed: accounts.filter((a) => a.status === "failed").length,
      subscriptionsAudited: SUBS.length,
      subscriptionsFailed: 0,
    },
    findings,
  };
}

export function sampleExtras(): ReportExtras {
  // Weekly runs: slow progress, a regression when a new pool appeared, then cleanup.
  const series: [string, number, number][] = [
    ["2026-09-24", 9, 11],
    ["2026-10-01", 9, 10],
    ["2026-10-08", 8, 10],
    ["2026-10-15", 8, 8],
    ["2026-10-22", 9, 8],
    ["2026-10-29", 8, 7],
    ["2026-11-05", 8, 6],
    ["2026-11-12", 7, 6],
    ["2026-11-19", 7, 5],
    ["2026-11-26", 7, 4],
  ];
  return {
    runId: "run-2026-11-26T06-00Z-7c1e",
    history: series.map(([date, critical, warning]) => ({ date, critical, warning, open: critical + warning })),
    resolvedSinceLastRun: [
      {
        findingId: "account-certificate:/subscriptions/6f1d2c3b-0a9e-4c5d-8e7f-1a2b3c4d5e03/resourcegroups/rg-ml/providers/microsoft.batch/batchaccounts/mlexperiments/certificates/sha1-ab12",
        kind: "account-certificate",
        resourceId:
          "/subscriptions/6f1d2c3b-0a9e-4c5d-8e7f-1a2b3c4d5e03/resourceGroups/rg-ml/providers/Microsoft.Batch/batchAccounts/mlexperiments/certificates/sha1-ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12",
        accountName: "mlexperiments",
        resolvedOn: "2026-11-26",
      },
      {
        findingId: "pool-certificate-reference:/subscriptions/6f1d2c3b-0a9e-4c5d-8e7f-1a2b3c4d5e01/resourcegroups/rg-protein/providers/microsoft.batch/batchaccounts/proteinfold/pools/fold-large",
        kind: "pool-certificate-reference",
        resourceId:
          "/subscriptions/6f1d2c3b-0a9e-4c5d-8e7f-1a2b3c4d5e01/resourceGroups/rg-protein/providers/Microsoft.Batch/batchAccounts/proteinfold/pools/fold-large",
        accountName: "proteinfold",
        resolvedOn: "2026-11-26",
      },
    ],
  };
}
