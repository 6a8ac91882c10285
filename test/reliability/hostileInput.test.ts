// Scenario 9: hostile tags and names, generated. Tag values and resource names are written by anyone with Tag
// Contributor: CR/LF, markup, very long values, hundreds of addresses, look-alike domains, foreign domains.
// No crash; nothing from the input becomes markup; no CR/LF in subjects; nobody outside the allowlist is mailed;
// every rejection is reported.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { planDigests } from "../../src/core/digestPlan.js";
import { REPORT_SCHEMA_VERSION, RETIREMENT_DATE, type AuditReport, type Finding } from "../../src/core/model.js";
import { MAX_ADDRESSES_PER_VALUE, checkAddress, resolveOwners } from "../../src/core/owners.js";
import { defaultReminderPolicy } from "../../src/core/schedule.js";
import { renderDigest } from "../../src/render/digestEmail.js";
import { renderReportHtml } from "../../src/render/reportHtml.js";
import type { TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { composeRun, demo, isolatedStorage, runJob, startSimulatedAzure, succeeded } from "../support/auditRuns.js";

const ALLOWED = ["contoso.com"];
const ASOF = "2026-11-26";
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const PAYLOADS = [
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  '" onmouseover="alert(1)',
  "javascript:alert(1)",
  "</td></tr></table><iframe src=//evil.example>",
  "<!--",
  "]]>",
  "\r\nBcc: victim@evil.example",
  "\u202eeviL",
  "&lt;script&gt;",
];
const ADDRESSES = [
  "alice@contoso.com",
  "Bob.Smith@Research.Contoso.com",
  "eve@evil.example",
  "mallory@contoso.com.evil.example",
  "x@contoso-com.example",
  "spoof@cоntoso.com", // Cyrillic о
  "a@b",
  "<script>@contoso.com",
  '"quoted"@contoso.com',
  "carol@contoso.com\r\nBcc: victim@evil.example",
];

const hostileText = fc.oneof(
  fc.constantFrom(...PAYLOADS),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...PAYLOADS), fc.string({ maxLength: 20 })).map((parts) => parts.join("")),
  fc.string({ minLength: 500, maxLength: 5000 }),
  fc.string({ unit: "binary", maxLength: 60 }),
);
const ownerValue = fc
  .tuple(fc.array(fc.oneof(fc.constantFrom(...ADDRESSES), fc.emailAddress(), hostileText), { minLength: 1, maxLength: 300 }), fc.constantFrom(",", ";", " ", ", ", "\n"))
  .map(([list, separator]) => list.join(separator));

const URL_ATTRIBUTES = /^(href|src|action|formaction|xlink:href|background|poster|srcset|data)$/i;

/** Tags and event-handler attributes in markup, outside script and style bodies; and how many scripts there are. */
function markup(html: string): { tags: Set<string>; handlers: string[]; scripts: number; javascriptUrls: number } {
  const scripts = (html.match(/<script\b/gi) ?? []).length;
  const body = html.replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, "<$1>");
  const tags = new Set<string>();
  const handlers: string[] = [];
  let javascriptUrls = 0;
  const tag = /<([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
  for (const m of body.matchAll(tag)) {
    tags.add((m[1] ?? "").toLowerCase());
    for (const a of (m[2] ?? "").matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
      if (/^on/i.test(a[1] ?? "")) handlers.push(a[0]);
      // Only attributes a browser follows as URLs can run a javascript: URL; a title or data-* value is plain text.
      if (URL_ATTRIBUTES.test(a[1] ?? "") && /^\s*javascript:/i.test(a[2] ?? a[3] ?? a[4] ?? "")) javascriptUrls++;
    }
  }
  return { tags, handlers, scripts, javascriptUrls };
}

const SUB = "3f2c1a4e-8b7d-4c6a-9e1f-2a3b4c5d6e7f";
function finding(i: number, text: string, owner = "alice@contoso.com"): Finding {
  const accountId = `/subscriptions/${SUB}/resourceGroups/rg-${i}/providers/Microsoft.Batch/batchAccounts/acct${i}`;
  const pool = i % 2 === 0;
  return {
    id: `f${i}`,
    kind: pool ? "pool-certificate-reference" : "account-certificate",
    severity: pool ? "critical" : "warning",
    resourceId: `${accountId}/${pool ? "pools" : "certificates"}/${text}`,
    subscriptionId: SUB,
    subscriptionName: text,
    resourceGroup: text,
    accountName: text,
    accountId,
    detail: text,
    owners: [{ address: owner, source: `account tag "${text}"` }],
    ownerProblems: [text],
    ...(pool
      ? { poolName: text, references: [{ id: text, certificateName: text, resolves: false }] }
      : { certificate: { id: text, name: text, accountId, thumbprint: text, thumbprintAlgorithm: text, referencedByPools: [text] } }),
  };
}

function report(findings: Finding[]): AuditReport {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: `${ASOF}T07:00:00.000Z`,
    asOf: ASOF,
    retirementDate: RETIREMENT_DATE,
    deadline: RETIREMENT_DATE,
    daysSinceDeadline: 1001,
    daysSinceRetirement: 1001,
    coverage: { complete: true, subscriptions: [{ id: SUB, status: "audited" }], accounts: [], problems: [] },
    summary: { findings: findings.length, critical: 0, warning: 0, accountCertificates: 0, poolsWithCertificates: 0, accountsAudited: 0, accountsFailed: 0, subscriptionsAudited: 1, subscriptionsFailed: 0 },
    findings,
  };
}

let azurite: LocalStorage;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

describe("9. hostile tags and names", () => {
  it("owner tags: only well-formed addresses inside ALLOWED_RECIPIENT_DOMAINS survive, at most 20 per value, and every rejection is reported", () => {
    fc.assert(
      fc.property(ownerValue, (value) => {
        const { owners, problems } = resolveOwners({ account: { owner: value }, accountId: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Batch/batchAccounts/a" }, { ownerTagKeys: ["owner"], fallbackContacts: [], allowedRecipientDomains: ALLOWED });

        expect(owners.length).toBeLessThanOrEqual(MAX_ADDRESSES_PER_VALUE);
        for (const { address } of owners) {
          expect(checkAddress(address)).toEqual({ ok: true, address });
          expect(address.toLowerCase()).toMatch(/(@|\.)contoso\.com$/);
          expect(address).not.toMatch(CONTROL);
        }
        const accepted = new Set(owners.map((o) => o.address.toLowerCase()));
        const tokens = value.split(/[,;\s]+/).filter(Boolean);
        if (CONTROL.test(value) || tokens.some((t) => !accepted.has(t.toLowerCase()))) expect(problems.length).toBeGreaterThan(0);
        for (const problem of problems) expect(problem).not.toMatch(/[\r\n]/);
      }),
      { numRuns: 300 },
    );
  });

  it("digest email: no markup, handler or script from names and tags in the HTML, and no CR/LF in the subject", async () => {
    const baseline = markup((await renderDigest(onlyPlan([finding(0, "plain"), finding(1, "plain")]), { asOf: ASOF, deadline: RETIREMENT_DATE, retirementDate: RETIREMENT_DATE })).html);
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, async (a, b) => {
        const email = await renderDigest(onlyPlan([finding(0, a), finding(1, b)]), { asOf: ASOF, deadline: RETIREMENT_DATE, retirementDate: RETIREMENT_DATE });

        expect(email.subject).not.toMatch(CONTROL);
        const found = markup(email.html);
        expect(found.scripts).toBe(0);
        expect(found.handlers).toEqual([]);
        expect(found.javascriptUrls).toBe(0);
        expect([...found.tags].filter((t) => !baseline.tags.has(t))).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it("report page: no markup, handler or extra script from names and tags", () => {
    const baseline = markup(renderReportHtml(report([finding(0, "plain"), finding(1, "plain")]), { history: [], resolvedSinceLastRun: [] }));
    fc.assert(
      fc.property(hostileText, hostileText, (a, b) => {
        const found = markup(renderReportHtml(report([finding(0, a), finding(1, b)]), { history: [], resolvedSinceLastRun: [] }));

        expect(found.scripts).toBe(baseline.scripts);
        expect(found.handlers).toEqual([]);
        expect(found.javascriptUrls).toBe(0);
        expect([...found.tags].filter((t) => !baseline.tags.has(t))).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("end to end with a generated hostile tenant: every message goes to an allowed domain, one recipient, and no subject carries CR/LF", async () => {
    const [values] = fc.sample(fc.array(ownerValue, { minLength: 8, maxLength: 8 }), { numRuns: 1, seed: 20261126 });
    const tenant: TenantSnapshot = demo();
    let i = 0;
    for (const resource of tenant.resources) {
      if (resource.type !== "Microsoft.Batch/batchAccounts" && resource.type !== "Microsoft.Resources/resourceGroups") continue;
      // A valid address in each value keeps mail flowing, so the allowlist is what is tested.
      resource.tags = { owner: `${values?.[i++ % 8] ?? ""},ok${i}@contoso.com`, note: PAYLOADS[i % PAYLOADS.length] ?? "" };
    }
    for (const sub of tenant.subscriptions) sub.displayName = `${sub.displayName} ${PAYLOADS[0]}`;
    const { sim, accessKey } = await startSimulatedAzure(tenant);
    try {
      const env = { ...isolatedStorage(azurite.connectionString), ALLOWED_RECIPIENT_DOMAINS: "contoso.com", ADMIN_SUMMARY_TO: "batch-admins@contoso.com" };
      const done = succeeded(await runJob(composeRun(sim, accessKey, env), ASOF));

      const messages = sim.email.messages();
      expect(messages.length).toBeGreaterThan(1);
      for (const m of messages) {
        expect(m.to).toHaveLength(1);
        expect(m.to[0]?.toLowerCase()).toMatch(/@([a-z0-9-]+\.)*contoso\.com$/);
        expect(m.subject).not.toMatch(CONTROL);
      }
      expect(done.report.findings.every((f) => (f.owners ?? []).every((o) => /@([a-z0-9-]+\.)*contoso\.com$/.test(o.address)))).toBe(true);
      expect(done.report.findings.flatMap((f) => f.ownerProblems ?? []).length).toBeGreaterThan(0);
      expect(markup([...done.formats.html()].join("")).handlers).toEqual([]);
    } finally {
      await sim.close();
    }
  });
});

function onlyPlan(findings: Finding[]) {
  const [plan] = planDigests(findings, new Map(), ASOF, defaultReminderPolicy(RETIREMENT_DATE), []);
  if (!plan) throw new Error("expected a digest plan");
  return plan;
}
