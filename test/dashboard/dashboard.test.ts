// npm run dashboard, in-process: the function files register through the worker-like core module, the node:http
// adapter routes by those registrations, and the report it serves works in headless Chromium under its CSP.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORT_CSP_HEADER } from "../../src/render/reportHtml.js";
import { startDashboard, type Dashboard } from "../../src/dashboard/server.js";
import type { SimulatedAzure } from "@batch-cert-auditor/simulated-azure";
import { browserAvailable, launchBrowser } from "../support/browser.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
let dashboard: Dashboard;
const lines: string[] = [];

beforeAll(async () => {
  dashboard = await startDashboard({ port: 0, log: (l) => lines.push(l) });
});
afterAll(async () => {
  await dashboard?.close();
});

describe("the local dashboard", () => {
  it("serves the registered functions' routes on loopback, with the first dry-run report already there", async () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dashboard.registrations.map((r) => r.metadata.name).sort()).toEqual(["dailyAudit", "emailDeliveryReport", "getAuditReport", "getAuditRun", "sendOutbox", "startAuditRun"]);

    const json = await fetch(`${dashboard.url}/api/audit/report`);
    expect(json.status).toBe(200);
    const report = (await json.json()) as { run: { trigger: string; sendMode: string }; filteredCount: number };
    expect(report.run).toMatchObject({ trigger: "http", sendMode: "dry-run" });
    expect(report.filteredCount).toBe(20);
    expect((dashboard.sim as SimulatedAzure).email.messages()).toHaveLength(0);

    const html = await fetch(`${dashboard.url}/api/audit/report?format=html`);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-security-policy")).toBe(REPORT_CSP_HEADER);

    const home = await fetch(`${dashboard.url}/`, { redirect: "manual" });
    expect(home.status).toBe(302);
    expect(home.headers.get("location")).toBe("/api/audit/report?format=html");
  });

  it("passes path parameters and bodies through, and answers 404/405 for what no function serves", async () => {
    const started = await fetch(`${dashboard.url}/api/audit/runs`, { method: "POST", body: JSON.stringify({ send: false }) });
    expect(started.status).toBe(202);
    const { runId, statusUrl } = (await started.json()) as { runId: string; statusUrl: string };
    expect(statusUrl).toBe(`${dashboard.url}/api/audit/runs/${runId}`);
    const status = await fetch(statusUrl);
    expect(status.status).toBe(200);
    expect(((await status.json()) as { runId: string }).runId).toBe(runId);

    expect((await fetch(`${dashboard.url}/api/audit/nothing`)).status).toBe(404);
    const wrongMethod = await fetch(`${dashboard.url}/api/audit/report`, { method: "DELETE" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");
  });

  describe.skipIf(!browserAvailable())("in Chromium", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("shows the report with no CSP violation, script error or outside request, filters applied", async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("request", (r) => {
        if (!r.url().startsWith(dashboard.url) && !r.url().startsWith("data:")) problems.push(`external request: ${r.url()}`);
      });
      await page.addInitScript('document.addEventListener("securitypolicyviolation", (e) => console.error("CSP violation: " + e.violatedDirective));');

      const all = await page.goto(`${dashboard.url}/`, { waitUntil: "load" });
      expect(all?.status()).toBe(200);
      expect(page.url()).toBe(`${dashboard.url}/api/audit/report?format=html`);
      expect(await page.locator("#findings-table tbody tr[data-row]").count()).toBe(20);
      if (process.env.WRITE_SCREENSHOTS === "1") {
        const out = resolve(ROOT, "docs/images/dashboard.png");
        mkdirSync(dirname(out), { recursive: true });
        await page.screenshot({ path: out });
      }

      await page.goto(`${dashboard.url}/api/audit/report?format=html&severity=critical`, { waitUntil: "load" });
      expect(await page.locator("#findings-table tbody tr[data-row]").count()).toBe(11);
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});
