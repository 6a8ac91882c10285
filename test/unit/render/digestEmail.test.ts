import { describe, expect, it } from "vitest";
import type { Finding } from "../../../src/core/model.js";
import { historyKey, planAllClear, planDigests, type DigestPlan } from "../../../src/core/digestPlan.js";
import { defaultReminderPolicy, type ReminderHistory } from "../../../src/core/schedule.js";
import {
  digestSubject,
  renderAdminSummary,
  renderAllClear,
  renderDigest,
  sanitizeHeader,
  type RenderContext,
} from "../../../src/render/digestEmail.js";
import { countdownPhrase } from "../../../src/render/format.js";

const SUB = "8f2b6c1e-3d4a-4b5c-9e6f-7a8b9c0d1e2f";
const ACCOUNT_ID = `/subscriptions/${SUB}/resourceGroups/rg-render/providers/Microsoft.Batch/batchAccounts/contosorender01`;
const THUMB = "0a0e4f50d51beadeac1d35afc5116098e7902e6e";
const CERT_ID = `${ACCOUNT_ID}/certificates/sha1-${THUMB}`;
const OWNER = { address: "alice@contoso.com", source: 'account tag "owner"' };

const ctx = (over: Partial<RenderContext> = {}): RenderContext => ({ asOf: "2026-11-26", deadline: "2024-02-29", retirementDate: "2024-02-29", ...over });

function base(over: Partial<Finding>): Finding {
  return {
    id: "x",
    kind: "account-certificate",
    severity: "critical",
    resourceId: CERT_ID,
    subscriptionId: SUB,
    subscriptionName: "Contoso Production",
    resourceGroup: "rg-render",
    accountName: "contosorender01",
    accountId: ACCOUNT_ID,
    detail: "",
    owners: [OWNER],
    ...over,
  };
}

const certFinding = (over: Partial<Finding> = {}): Finding =>
  base({
    id: "cert-1",
    certificate: { id: CERT_ID, name: `sha1-${THUMB}`, accountId: ACCOUNT_ID, thumbprint: THUMB, thumbprintAlgorithm: "SHA1", referencedByPools: ["render-pool"] },
    ...over,
  });

const poolFinding = (over: Partial<Finding> = {}): Finding =>
  base({
    id: "pool-1",
    kind: "pool-certificate-reference",
    severity: "warning",
    resourceId: `${ACCOUNT_ID}/pools/render-pool`,
    poolName: "render-pool",
    references: [{ id: CERT_ID, certificateName: `sha1-${THUMB}`, resolves: true }],
    ...over,
  });

function plan(findings: Finding[], asOf = "2026-11-26", histories = new Map<string, ReminderHistory>(), contacts: string[] = []): DigestPlan[] {
  return planDigests(findings, histories, asOf, defaultReminderPolicy("2024-02-29"), contacts);
}

function only(findings: Finding[], asOf?: string): DigestPlan {
  const [p] = plan(findings, asOf);
  if (!p) throw new Error("expected a plan");
  return p;
}

describe("subject", () => {
  it("carries the item count and the days overdue with a thousands separator", () => {
    expect(digestSubject(only([certFinding(), poolFinding(), poolFinding({ id: "p2", poolName: "p2", resourceId: `${ACCOUNT_ID}/pools/p2` })]), ctx())).toBe(
      "Action needed: 3 Azure Batch certificate items, 1,001 days overdue",
    );
  });

  it("counts days left before the deadline and uses the singular for one item", () => {
    const p = only([certFinding()], "2024-02-15");
    expect(digestSubject(p, ctx({ asOf: "2024-02-15" }))).toBe("Action needed: 1 Azure Batch certificate item, 14 days left");
  });

  it("says due today on the deadline and 1 day with no plural", () => {
    expect(countdownPhrase(0)).toBe("due today");
    expect(countdownPhrase(1)).toBe("1 day left");
    expect(countdownPhrase(-1)).toBe("1 day overdue");
  });

  it("names the owner who has not acted on an escalation copy", () => {
    const histories = new Map([[historyKey(OWNER.address, "cert-1"), { firstNotifiedOn: "2024-01-01", lastNotifiedOn: "2026-11-01", lastMilestone: "overdue-5", overdueRemindersSent: 5 }]]);
    const escalation = plan([certFinding()], "2026-11-26", histories, ["lead@contoso.com"]).find((p) => p.kind === "escalation");
    if (!escalation) throw new Error("expected an escalation copy");
    expect(digestSubject(escalation, ctx())).toBe("Escalated: alice@contoso.com has not acted on 1 Azure Batch certificate item, 1,001 days overdue");
  });
});

describe("sanitizeHeader", () => {
  it("turns CR, LF and other control characters into spaces so no header can be injected", () => {
    expect(sanitizeHeader("Hello\r\nBcc: evil@evil.com\u0000\u2028x")).toBe("Hello Bcc: evil@evil.com x");
  });

  it("drops bidi overrides, collapses whitespace and caps the length", () => {
    expect(sanitizeHeader("  a\u202Eb   c  ")).toBe("ab c");
    const long = sanitizeHeader("x".repeat(500), 50);
    expect(long).toHaveLength(50);
    expect(long.endsWith("…")).toBe(true);
  });
});

describe("renderDigest", () => {
  it("renders MJML into a complete HTML document and a plain-text part", async () => {
    const email = await renderDigest(only([certFinding(), poolFinding()]), ctx());
    expect(email.html).toMatch(/^<!doctype html>/i);
    expect(email.html).not.toContain("<mj-");
    expect(email.text).toContain("1,001 days overdue");
    expect(email.html).toContain("1,001 days overdue");
  });

  it("says why a role holder got the digest: the group, the role and the scope", async () => {
    const owner = { address: "alice@contoso.com", source: "member of platform-admins, which holds Owner on subscription sub-research" };
    const { text, html } = await renderDigest(only([certFinding({ owners: [owner] })]), ctx());
    expect(text).toContain("You have write access: you are a member of platform-admins, which holds Owner on subscription sub-research.");
    expect(html).toContain("you are a member of platform-admins, which holds Owner on subscription sub-research");
    const direct = await renderDigest(only([certFinding({ owners: [{ address: "alice@contoso.com", source: "role Contributor on resource group rg-render" }] })]), ctx());
    expect(direct.text).toContain("You have write access: you hold Contributor on resource group rg-render.");
    // Said once: not also as "found as the owner in: role Contributor on ...".
    expect(direct.text.match(/Contributor/g)).toHaveLength(1);
  });

  it("gives concrete commands with the real names for an account certificate", async () => {
    const { text, html } = await renderDigest(only([certFinding()]), ctx());
    expect(text).toContain(`az keyvault certificate import --vault-name "$VAULT" --name sha1-${THUMB} --file sha1-${THUMB}.pfx --password "$PFX_PASSWORD_SHA1_${THUMB.toUpperCase()}"`);
    expect(text).toContain(`VAULT='<REPLACE: key vault name>'`);
    expect(text).toContain("Replace pool render-pool the same way");
    expect(text).toContain(`az rest --method delete --url 'https://management.azure.com${CERT_ID}?api-version=2023-11-01'`);
    expect(html).toContain(`https://management.azure.com${CERT_ID}?api-version=2023-11-01`);
  });

  it("tells a pool owner to recreate the pool with the Key Vault extension and delete the old one", async () => {
    const { text } = await renderDigest(only([poolFinding()]), ctx());
    expect(text).toMatch(/managed identity/);
    expect(text).toMatch(/Key Vault VM extension/);
    expect(text).toMatch(/Replace pool render-pool \(uses certificate/);
    expect(text).toContain("az identity create --resource-group rg-render --name batch-pool-keyvault");
  });

  it("says what breaks since the retirement", async () => {
    const { text } = await renderDigest(only([poolFinding()]), ctx());
    expect(text).toContain("creating or resizing pools with certificate references is rejected");
  });

  it("links each resource in the portal", async () => {
    const { html } = await renderDigest(only([certFinding()]), ctx());
    expect(html).toContain(`href="https://portal.azure.com/#@/resource${CERT_ID}"`);
  });

  it("uses an https portal base when given and ignores a javascript: one", async () => {
    const gov = await renderDigest(only([certFinding()]), ctx({ portalBaseUrl: "https://portal.azure.us/" }));
    expect(gov.html).toContain(`href="https://portal.azure.us/#@/resource${CERT_ID}"`);
    const evil = await renderDigest(only([certFinding()]), ctx({ portalBaseUrl: "javascript:alert(1)//", reportUrl: "http://insecure.example/report" }));
    expect(evil.html).not.toContain("javascript:");
    expect(evil.html).not.toContain("insecure.example");
    expect(evil.html).toContain(`href="https://portal.azure.com/#@/resource${CERT_ID}"`);
  });

  it("says why the recipient got it and how to stop it, including the snooze tag", async () => {
    const { text, html } = await renderDigest(only([certFinding()]), ctx());
    expect(text).toContain('account tag "owner" on contosorender01');
    expect(html).toContain("account tag &quot;owner&quot; on contosorender01");
    expect(text).toContain("batch-cert-audit-snooze: YYYY-MM-DD");
    expect(text).toContain(`az tag update --resource-id ${ACCOUNT_ID} --operation Merge --tags batch-cert-audit-snooze=YYYY-MM-DD`);
  });

  it("names the configured snooze tag (SNOOZE_TAG_KEY), not the default", async () => {
    const { text, html } = await renderDigest(only([certFinding()]), ctx({ snoozeTagKey: "hold-until" }));
    expect(text).toContain("Tag the Batch account hold-until: YYYY-MM-DD");
    expect(text).toContain(`az tag update --resource-id ${ACCOUNT_ID} --operation Merge --tags hold-until=YYYY-MM-DD`);
    expect(text).not.toContain("batch-cert-audit-snooze");
    expect(html).toContain("hold-until");
    expect(html).not.toContain("batch-cert-audit-snooze");
  });

  it("tells an escalation contact whose digest it is and how many reminders were ignored", async () => {
    const histories = new Map([[historyKey(OWNER.address, "cert-1"), { firstNotifiedOn: "2024-01-01", lastNotifiedOn: "2026-11-01", lastMilestone: "overdue-6", overdueRemindersSent: 6 }]]);
    const escalation = plan([certFinding()], "2026-11-26", histories, ["lead@contoso.com"]).find((p) => p.kind === "escalation");
    if (!escalation) throw new Error("expected an escalation copy");
    const { text, html } = await renderDigest(escalation, ctx());
    expect(text).toContain("You are an escalation contact. alice@contoso.com has received 6 overdue reminders");
    expect(html).toContain("Escalated: alice@contoso.com has not acted");
  });

  it("escapes script tags and quotes in every name, tag and detail", async () => {
    const hostile = "<script>alert(1)</script>";
    const f = poolFinding({
      poolName: hostile,
      accountName: `acct"><img src=x onerror=alert(2)>`,
      resourceGroup: hostile,
      subscriptionName: hostile,
      detail: `detail ${hostile}`,
      owners: [{ address: OWNER.address, source: `account tag "<b onmouseover=alert(3)>"` }],
    });
    const { html, text } = await renderDigest(only([f]), ctx());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<b onmouseover/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("acct&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
    // The plain-text part shows names as they are, and shell-quotes them inside commands.
    expect(text).toContain("--resource-group '<script>alert(1)</script>'");
  });

  it("keeps CR/LF and control characters from a name out of the subject", async () => {
    const escalationTarget = poolFinding({ owners: [{ address: "alice@contoso.com\r\nBcc: x@evil.com", source: "x" }] });
    const histories = new Map([[historyKey("alice@contoso.com\r\nBcc: x@evil.com", "pool-1"), { firstNotifiedOn: "2024-01-01", lastNotifiedOn: "2026-11-01", lastMilestone: "overdue-5", overdueRemindersSent: 5 }]]);
    const escalation = plan([escalationTarget], "2026-11-26", histories, ["lead@contoso.com"]).find((p) => p.kind === "escalation");
    if (!escalation) throw new Error("expected an escalation copy");
    const { subject, html } = await renderDigest(escalation, ctx());
    // eslint-disable-next-line no-control-regex -- asserting control characters are absent
    expect(subject).not.toMatch(/[\u0000-\u001f]/);
    expect(subject).toContain("alice@contoso.com Bcc: x@evil.com");
    expect(html.match(/<title>([^<]*)<\/title>/)?.[1]).not.toMatch(/[\r\n]/);
  });

  it("strips bidi overrides from displayed names", async () => {
    const { html } = await renderDigest(only([poolFinding({ poolName: "pool\u202Elmth.exe" })]), ctx());
    expect(html).not.toContain("\u202E");
    expect(html).toContain("poollmth.exe");
  });

  it("tells the owner which owner tag value was not an address and how to set a corrected one, once per tag", async () => {
    const whole = { level: "account" as const, resourceId: ACCOUNT_ID, name: "contosorender01", key: "owner", value: "bob@@contoso", invalid: [{ entry: "bob@@contoso", reason: "not-an-address" as const }], corrected: "<corrected-address>" };
    const partly = {
      level: "resource group" as const,
      resourceId: `/subscriptions/${SUB}/resourceGroups/rg-render`,
      name: "rg-render",
      key: "Owner Contact",
      value: "alice@contoso.com, bob.contoso.com",
      invalid: [{ entry: "bob.contoso.com", reason: "not-an-address" as const }],
      corrected: "alice@contoso.com;<corrected-address>",
    };
    const fixes = [whole, partly];
    const { text, html } = await renderDigest(only([certFinding({ ownerTagFixes: fixes }), poolFinding({ ownerTagFixes: fixes })]), ctx());
    expect(text).toContain("The owner tag `owner` on account contosorender01 has `bob@@contoso`, which is not an email address, so the tag names nobody.");
    expect(text).toContain(`az tag update --resource-id ${ACCOUNT_ID} --operation Merge --tags 'owner=<corrected-address>'`);
    expect(text).toContain("The owner tag `Owner Contact` on resource group rg-render is `alice@contoso.com, bob.contoso.com`: `bob.contoso.com` is not an email address.");
    expect(text).toContain(`az tag update --resource-id /subscriptions/${SUB}/resourceGroups/rg-render --operation Merge --tags 'Owner Contact=alice@contoso.com;<corrected-address>'`);
    expect(text.match(/az tag update --resource-id \S+ --operation Merge --tags 'owner=/g)).toHaveLength(1);
    expect(html).toContain("has `bob@@contoso`, which is not an email address");
    expect(html).toContain("--tags &#39;owner=&lt;corrected-address&gt;&#39;");
  });

  it("says a tag whose every entry is not an address holds no email address", async () => {
    const words = "risk team (ask Bob)";
    const fix = { level: "account" as const, resourceId: ACCOUNT_ID, name: "contosorender01", key: "owner", value: words, invalid: words.split(" ").map((entry) => ({ entry, reason: "not-an-address" as const })), corrected: "<corrected-address>" };
    const { text } = await renderDigest(only([certFinding({ ownerTagFixes: [fix] })]), ctx());
    expect(text).toContain("The owner tag `owner` on account contosorender01 has `risk team (ask Bob)`, which holds no email address, so the tag names nobody.");
  });

  it("says nothing about owner tags when they were all addresses", async () => {
    const { text } = await renderDigest(only([certFinding()]), ctx());
    expect(text).not.toContain("The owner tag");
  });

  it("links the full report when an https report URL is given", async () => {
    const { html, text } = await renderDigest(only([certFinding()]), ctx({ reportUrl: "https://example.blob.core.windows.net/r/report.html?a=1&b=2" }));
    expect(html).toContain('href="https://example.blob.core.windows.net/r/report.html?a=1&amp;b=2"');
    expect(text).toContain("Full report: https://example.blob.core.windows.net/r/report.html?a=1&b=2");
  });
});

describe("renderAllClear", () => {
  it("thanks the owner and lists what was resolved, escaped", async () => {
    const [p] = planAllClear([poolFinding({ poolName: "<i>old</i>" })], [], "2026-11-26");
    if (!p) throw new Error("expected a plan");
    const email = await renderAllClear(p, ctx());
    expect(email.subject).toBe("All clear: no Azure Batch certificate items left for you (1 item resolved)");
    expect(email.html).toContain("Pool &lt;i&gt;old&lt;/i&gt; in Batch account contosorender01");
    expect(email.html).not.toContain("<i>old</i>");
    expect(email.text).toContain("reminders stop");
  });
});

describe("renderAdminSummary", () => {
  it("lists totals, unowned findings, owner problems and failed scopes with reasons, escaped", async () => {
    const email = await renderAdminSummary(
      {
        totals: { findings: 1234, critical: 1000, warning: 234, digestsPlanned: 17 },
        unownedFindings: [poolFinding({ owners: [] })],
        unownedCount: 1,
        ownerProblems: [`account tag "owner" on ${ACCOUNT_ID}: 'x@evil.com' is outside ALLOWED_RECIPIENT_DOMAINS`, "<script>x</script>"],
        failedScopes: [{ id: "/subscriptions/dead", status: "failed", reason: "403 AuthorizationFailed" }],
      },
      ctx(),
    );
    expect(email.subject).toBe("Batch certificate audit: 1,234 findings, 1 unowned, 1 failed scopes, 1,001 days overdue");
    expect(email.text).toContain("Findings: 1,234");
    expect(email.text).toContain("'x@evil.com' is outside ALLOWED_RECIPIENT_DOMAINS");
    expect(email.text).toContain("/subscriptions/dead: 403 AuthorizationFailed");
    expect(email.html).toContain("&lt;script&gt;x&lt;/script&gt;");
    expect(email.html).not.toContain("<script>x</script>");
  });

  it("caps long lists and points to the report for the rest", async () => {
    const email = await renderAdminSummary(
      { totals: { findings: 0, critical: 0, warning: 0 }, unownedFindings: [], unownedCount: 0, ownerProblems: Array.from({ length: 250 }, (_, i) => `problem ${i}`), failedScopes: [] },
      ctx(),
    );
    expect(email.text).toContain("problem 199");
    expect(email.text).not.toContain("problem 200");
    expect(email.text).toContain("… and 50 more");
  });

  it("counts the unowned findings it was not given: the summary holds only those it lists", async () => {
    const listed = Array.from({ length: 200 }, (_, i) => poolFinding({ owners: [], id: `p${i}`, poolName: `pool-${i}` }));
    const email = await renderAdminSummary({ totals: { findings: 5000, critical: 5000, warning: 0 }, unownedFindings: listed, unownedCount: 4321, ownerProblems: [], failedScopes: [] }, ctx());
    expect(email.subject).toContain("4,321 unowned");
    expect(email.text).toContain("pool pool-199");
    expect(email.text).toContain("… and 4,121 more");
  });
});
