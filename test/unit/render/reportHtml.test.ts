import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AuditReport, Finding } from "../../../src/core/model.js";
import { reportRules, resolveRules } from "../../../src/core/rules/ruleSet.js";
import { escapeHtml } from "../../../src/render/escapeHtml.js";
import {
  REPORT_CSP,
  REPORT_CSP_HEADER,
  jsonForScript,
  renderHistoryChart,
  renderReportHtml,
  reportCspHashes,
} from "../../../src/render/reportHtml.js";
import { sampleExtras, sampleReport } from "../../support/sampleReport.js";

const HOSTILE = `<script>alert("x")</script>' onmouseover="alert(1)"\r\nBcc: evil@example.com`;

function completeReport(): AuditReport {
  const report = sampleReport();
  report.coverage = {
    complete: true,
    subscriptions: report.coverage.subscriptions,
    accounts: report.coverage.accounts.map((a) => ({ ...a, status: "audited" as const, certificates: 0, reason: undefined })),
    problems: [],
  };
  return report;
}

function emptyReport(complete: boolean): AuditReport {
  const report = complete ? completeReport() : sampleReport();
  report.findings = [];
  return report;
}

function firstFinding(report: AuditReport): Finding {
  const f = report.findings[0];
  if (!f) throw new Error("sample report has no findings");
  return f;
}

/** The inline element bodies, exactly as the browser hashes them. */
function inlineBodies(html: string): { styles: string[]; scripts: string[]; data: string[] } {
  const all = (re: RegExp) => [...html.matchAll(re)].map((m) => m[1] ?? "");
  return {
    styles: all(/<style>([\s\S]*?)<\/style>/g),
    scripts: all(/<script>([\s\S]*?)<\/script>/g),
    data: all(/<script type="application\/json" id="data">([\s\S]*?)<\/script>/g),
  };
}

const cspHash = (text: string): string => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

function metaCsp(html: string): string {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  if (!m?.[1]) throw new Error("no CSP meta element");
  return m[1].replace(/&#39;/g, "'");
}

const count = (html: string, needle: string): number => html.split(needle).length - 1;

describe("escapeHtml", () => {
  it("escapes the five HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  });

  it("turns CR and LF into character references so they cannot split an attribute or a header built from it", () => {
    expect(escapeHtml("a\r\nb")).toBe("a&#13;&#10;b");
  });

  it("drops NUL and other control characters", () => {
    expect(escapeHtml("a\u0000b\u0007c\u007fd\te")).toBe("abcd\te");
  });

  it("renders null, undefined and numbers predictably", () => {
    expect(escapeHtml(undefined)).toBe("");
    expect(escapeHtml(null)).toBe("");
    expect(escapeHtml(42)).toBe("42");
  });

  it("never lets markup characters through, for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const out = escapeHtml(s);
        expect(out).not.toMatch(/[<>"'\r\n]/);
        // Every ampersand starts one of the references we produce.
        expect(out.replace(/&(amp|lt|gt|quot|#39|#13|#10);/g, "")).not.toContain("&");
      }),
    );
  });
});

describe("jsonForScript", () => {
  it("cannot close its script element, and parses back to the same value", () => {
    const value = { owner: "</script><script>alert(1)</script><!--", sep: "\u2028&" };
    const json = jsonForScript(value);
    expect(json).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe("renderReportHtml", () => {
  it("escapes hostile account names, owners, details and reasons wherever they appear", () => {
    const report = sampleReport();
    const f = firstFinding(report);
    f.accountName = HOSTILE;
    f.subscriptionName = HOSTILE;
    f.poolName = HOSTILE;
    f.detail = HOSTILE;
    f.owners = [{ address: `</script><script>alert(2)</script>`, source: "tag" }, { address: HOSTILE, source: "tag" }];
    report.coverage.problems = [HOSTILE];
    const extras = sampleExtras();
    extras.runId = HOSTILE;
    extras.resolvedSinceLastRun = [{ findingId: HOSTILE, kind: HOSTILE, resourceId: HOSTILE, accountName: HOSTILE, resolvedOn: "2026-11-26" }];

    const html = renderReportHtml(report, extras);

    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain(`onmouseover="`);
    expect(html).not.toContain("\r\nBcc");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&quot;alert(1)&quot;&#13;&#10;Bcc: evil@example.com");
    // Exactly two script elements: the JSON data block and the page's own script.
    expect(count(html, "<script")).toBe(2);
    expect(count(html, "</script>")).toBe(2);
  });

  it("puts hostile values in the data block in a form that parses back and cannot end the block", () => {
    const report = sampleReport();
    firstFinding(report).owners = [{ address: "</script><script>alert(2)</script>", source: "tag" }];
    const { data } = inlineBodies(renderReportHtml(report, sampleExtras()));
    expect(data).toHaveLength(1);
    expect(data[0]).not.toContain("<");
    const parsed = JSON.parse(data[0] ?? "") as { rows: { owners: string[] }[] };
    expect(parsed.rows.flatMap((r) => r.owners)).toContain("</script><script>alert(2)</script>");
  });

  it("carries a CSP whose hashes match the inline style and the executable script, and nothing else", () => {
    const html = renderReportHtml(sampleReport(), sampleExtras());
    const { styles, scripts, data } = inlineBodies(html);
    expect(styles).toHaveLength(1);
    expect(scripts).toHaveLength(1);
    const csp = metaCsp(html);

    expect(csp).toBe(REPORT_CSP);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`style-src ${cspHash(styles[0] ?? "")}`);
    expect(csp).toContain(`script-src ${cspHash(scripts[0] ?? "")};`);
    expect(csp).toContain("img-src data:");
    expect(csp).not.toContain(cspHash(data[0] ?? ""));
    expect(reportCspHashes).toEqual({ style: cspHash(styles[0] ?? ""), script: cspHash(scripts[0] ?? "") });
    expect(REPORT_CSP_HEADER.startsWith(REPORT_CSP)).toBe(true);
    expect(REPORT_CSP_HEADER).toContain("frame-ancestors 'none'");
  });

  it("keeps the same CSP for every report, so a handler can send it as a header without rendering", () => {
    const a = metaCsp(renderReportHtml(sampleReport(), sampleExtras()));
    const b = metaCsp(renderReportHtml(emptyReport(true), { history: [], resolvedSinceLastRun: [] }));
    expect(a).toBe(b);
  });

  it("loads nothing from the network: no URLs, no external scripts, styles, fonts or images", () => {
    const html = renderReportHtml(sampleReport(), sampleExtras());
    expect(html).not.toMatch(/\bsrc=/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/url\(|@import|@font-face/i);
    expect(html).not.toMatch(/\sstyle="/i); // style attributes would need 'unsafe-inline'
    expect(html).not.toMatch(/\son[a-z]+="/i); // inline handlers would need 'unsafe-inline'
  });

  it("leads with how long ago the certificates were retired and the open, critical and warning counts", () => {
    const report = sampleReport();
    const html = renderReportHtml(report, sampleExtras());
    expect(html).toContain("Azure Batch certificates were retired 1,001 days ago");
    expect(html).toMatch(/<div class="big" id="open-count">11<\/div>/);
    expect(html).toMatch(/id="critical-count">.*7 critical</);
    expect(html).toMatch(/id="warning-count">.*4 warning</);
    expect(html).not.toContain('id="deadline"');
  });

  it("shows a separate migration deadline, counting down or overdue", () => {
    const report = sampleReport();
    report.deadline = "2026-12-31";
    report.daysSinceDeadline = -35;
    expect(renderReportHtml(report, sampleExtras())).toMatch(/id="deadline">31 December 2026 &mdash; 35 days left/);
    report.daysSinceDeadline = 1;
    expect(renderReportHtml(report, sampleExtras())).toMatch(/id="deadline">31 December 2026 &mdash; passed 1 day ago/);
  });

  it("shows an incomplete-scan banner naming each failed subscription and account with its reason", () => {
    const report = sampleReport();
    report.coverage.subscriptions.push({ id: "sub-x", displayName: "legacy-hpc", status: "failed", reason: "401 InvalidAuthenticationToken: token expired" });
    report.coverage.problems.push("Resource Graph returned a truncated result (1000 rows); some pools may be missing");
    const html = renderReportHtml(report, sampleExtras());

    const banner = /<section id="coverage" class="banner banner-bad" role="alert"[\s\S]*?<\/section>/.exec(html)?.[0] ?? "";
    expect(banner).toContain("Incomplete scan");
    expect(banner).toContain("Subscription legacy-hpc");
    expect(banner).toContain("401 InvalidAuthenticationToken: token expired");
    expect(banner).toContain("Batch account transcodebatch");
    expect(banner).toContain("403 AuthorizationFailed");
    expect(banner).toContain("Resource Graph returned a truncated result (1000 rows)");
    expect(count(banner, "<li>")).toBe(3);
    expect(html).toContain("<strong>at least</strong>");
  });

  it("treats a report that claims completeness but lists a failed scope as incomplete", () => {
    const report = sampleReport();
    report.coverage.complete = true;
    const html = renderReportHtml(report, sampleExtras());
    expect(html).toContain('class="banner banner-bad" role="alert"');
    expect(html).not.toContain("Coverage complete");
  });

  it("says coverage is complete when every scope was read", () => {
    const html = renderReportHtml(completeReport(), sampleExtras());
    expect(html).toContain("Coverage complete");
    expect(html).not.toContain('role="alert"');
  });

  it("says which rules could not judge some pools, per rule and reason, and no tick while one could not", () => {
    const report = emptyReport(true);
    report.rules = reportRules(resolveRules());
    const rule = report.rules.find((r) => r.id === "classic-node-communication");
    if (!rule) throw new Error("no classic-node-communication rule");
    const accounts = report.coverage.accounts;
    const [first] = accounts;
    if (!first || accounts.length < 2) throw new Error("the sample report needs two accounts");
    report.coverage.unjudged = [
      ...accounts.map((a) => ({ rule: rule.id, accountId: a.id, pools: 2, missing: ["nodeCommunicationMode"], reason: a === first ? "graph rows only" : "pool list unavailable" })),
      { rule: HOSTILE, accountId: first.id, pools: 1, missing: [HOSTILE], reason: HOSTILE },
    ];
    const html = renderReportHtml(report, { history: [], resolvedSinceLastRun: [] });
    const section = /<div id="unjudged">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "";
    expect(html).toContain('class="banner banner-warn"');
    expect(html).toContain("Every scope read, but some pools not judged by every rule");
    expect(html).not.toContain("Coverage complete");
    expect(section).toContain("neither affected nor clean");
    // One line per rule, pools and accounts summed, each reason with its accounts; an unknown rule by its id, escaped.
    expect(section).toContain(`<strong>${escapeHtml(rule.title)}</strong> <code>${escapeHtml(rule.id)}</code>: ${accounts.length * 2} pools in ${accounts.length} Batch accounts not judged`);
    expect(section).toContain(`<span class="reason">pool list unavailable</span> (${accounts.length - 1} account${accounts.length - 1 === 1 ? "" : "s"})`);
    expect(section).toContain('<span class="reason">graph rows only</span> (1 account)');
    expect(section).toContain(`<strong>${escapeHtml(HOSTILE)}</strong>: 1 pool in 1 Batch account not judged`);
    expect(section).not.toContain("<script>");
    expect(html).toContain("Some pools could not be judged by every rule: see Coverage.");

    const judged = renderReportHtml(emptyReport(true), { history: [], resolvedSinceLastRun: [] });
    expect(judged).not.toContain('id="unjudged"');
    expect(judged).toContain("Coverage complete");
    expect(judged).not.toContain("not judged by every rule");
  });

  it("says 'no certificate usage found' for an empty report only when coverage is complete", () => {
    const clean = renderReportHtml(emptyReport(true), { history: [], resolvedSinceLastRun: [] });
    expect(clean).toContain("No certificate usage found.");
    expect(clean).not.toContain('id="findings-table"');

    const partial = renderReportHtml(emptyReport(false), { history: [], resolvedSinceLastRun: [] });
    expect(partial).not.toContain("No certificate usage found");
    expect(partial).toContain("but the scan was incomplete");
    expect(partial).toContain('role="alert"');
  });

  it("renders one table row per finding with its severity as a word, not only a colour", () => {
    const report = sampleReport();
    const html = renderReportHtml(report, sampleExtras());
    expect(count(html, "<tr data-row=")).toBe(report.findings.length);
    expect(count(html, 'data-severity="critical"')).toBe(7);
    expect(html).toContain("Critical</span>");
    expect(html).toContain("Warning</span>");
  });

  it("offers every subscription and owner with findings in the filters, plus 'No owner'", () => {
    const html = renderReportHtml(sampleReport(), sampleExtras());
    const select = (id: string) => new RegExp(`<select id="${id}">([\\s\\S]*?)</select>`).exec(html)?.[1] ?? "";
    expect(count(select("f-sub"), "<option")).toBe(1 + 3);
    expect(select("f-owner")).toContain('<option value="__none__">No owner</option>');
    expect(select("f-owner")).toContain('<option value="s.ito@contoso.com">s.ito@contoso.com</option>');
  });

  it("groups findings by owner, with unowned findings under 'No owner' first", () => {
    const report = sampleReport();
    const html = renderReportHtml(report, sampleExtras());
    const groups = [...html.matchAll(/data-owner-group="([^"]*)"/g)].map((m) => m[1]);
    expect(groups[0]).toBe("__none__");
    expect(groups).toContain("genomics-platform@contoso.com");
    const unowned = report.findings.filter((f) => !f.owners?.length).length;
    expect(html).toMatch(new RegExp(`No owner</span></h3><span class="chip">${unowned} findings`));
  });

  it("draws one chart point per history entry, oldest first", () => {
    const extras = sampleExtras();
    const svg = renderHistoryChart([...extras.history].reverse());
    expect(svg).toContain(`data-points="${extras.history.length}"`);
    expect(count(svg, '<g class="pt"')).toBe(extras.history.length);
    const dates = [...svg.matchAll(/<g class="pt" data-date="([^"]+)"/g)].map((m) => m[1]);
    expect(dates).toEqual(extras.history.map((h) => h.date));
    expect(svg).toMatch(/<title id="chart-title">[^<]+<\/title>/);
  });

  it("draws a single point, and says so when there is no history at all", () => {
    const one = renderHistoryChart([{ date: "2026-11-26", open: 3, critical: 1, warning: 2 }]);
    expect(one).toContain('data-points="1"');
    expect(count(one, '<g class="pt"')).toBe(1);
    expect(one).not.toContain("NaN");

    const none = renderHistoryChart([]);
    expect(none).toContain('data-points="0"');
    expect(none).toContain("No history yet");
  });

  it("keeps the chart finite when every history point is zero", () => {
    const svg = renderHistoryChart([
      { date: "2026-11-19", open: 0, critical: 0, warning: 0 },
      { date: "2026-11-26", open: 0, critical: 0, warning: 0 },
    ]);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(count(svg, '<g class="pt"')).toBe(2);
  });

  it("lists what was resolved since the last run", () => {
    const extras = sampleExtras();
    const html = renderReportHtml(sampleReport(), extras);
    const section = /<section id="resolved"[\s\S]*?<\/section>/.exec(html)?.[0] ?? "";
    expect(count(section, "<tr data-id=")).toBe(extras.resolvedSinceLastRun.length);
    for (const r of extras.resolvedSinceLastRun) {
      expect(section).toContain(r.accountName);
      expect(section).toContain(escapeHtml(r.resourceId));
    }
  });

  it("says plainly when nothing was resolved since the last run", () => {
    const html = renderReportHtml(sampleReport(), { ...sampleExtras(), resolvedSinceLastRun: [] });
    expect(html).toContain("Nothing was resolved since the last run.");
  });

  it("is deterministic for the same input", () => {
    expect(renderReportHtml(sampleReport(), sampleExtras())).toBe(renderReportHtml(sampleReport(), sampleExtras()));
  });
});
