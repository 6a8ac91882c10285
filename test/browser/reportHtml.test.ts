// The report page as a person sees it: served with its CSP header from a loopback server and driven
// in headless Chromium. Anything the CSP blocks or any script error fails the test.
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditReport } from "../../src/core/model.js";
import { REPORT_CSP_HEADER, renderReportHtml, type ReportExtras } from "../../src/render/reportHtml.js";
import { browserAvailable, launchBrowser } from "../support/browser.js";
import { sampleExtras, sampleReport } from "../support/sampleReport.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function hostileReport(): AuditReport {
  const report = sampleReport();
  const first = report.findings[0];
  if (!first) throw new Error("sample report has no findings");
  first.accountName = `"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
  first.owners = [{ address: "</script><script>window.__pwned=3</script>", source: "tag" }];
  first.detail = "line one\r\nSet-Cookie: x=1\n<svg onload=window.__pwned=4>";
  return report;
}

const pages = new Map<string, string>();
let server: Server;
let baseUrl = "";
let browser: Browser | undefined;

/** Serves each registered page with the same CSP the page carries in its meta element. */
function publish(path: string, html: string): string {
  pages.set(path, html);
  return `${baseUrl}${path}`;
}

interface Problems {
  errors: string[];
}

async function open(url: string, width = 1280): Promise<{ page: Page; problems: Problems }> {
  if (!browser) throw new Error("browser not launched");
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const problems: Problems = { errors: [] };
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.errors.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => {
    problems.errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(baseUrl) && !r.url().startsWith("data:")) problems.errors.push(`external request: ${r.url()}`);
  });
  // Injected by the DevTools protocol, so it is not itself subject to the page's CSP. A string, because
  // the project's TypeScript has no DOM library.
  await page.addInitScript(
    'document.addEventListener("securitypolicyviolation", (e) => console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));',
  );
  const response = await page.goto(url, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  return { page, problems };
}

const visibleRows = (page: Page) => page.locator("#findings-table tbody tr[data-row]:visible");

describe.skipIf(!browserAvailable())("the report page in Chromium", () => {
  const report = sampleReport();
  const extras: ReportExtras = sampleExtras();
  let url = "";

  beforeAll(async () => {
    server = createServer((req, res) => {
      const html = pages.get(req.url ?? "");
      if (!html) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": REPORT_CSP_HEADER });
      res.end(html);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    url = publish("/report.html", renderReportHtml(report, extras));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((ok) => server?.close(() => ok()));
  });

  it("loads without console errors, script errors, CSP violations or network requests", async () => {
    const { page, problems } = await open(url);
    await expect.poll(() => page.locator("#filters").isVisible()).toBe(true);
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it("renders one visible row per finding", async () => {
    const { page } = await open(url);
    expect(await visibleRows(page).count()).toBe(report.findings.length);
    expect(await page.locator("#f-count").textContent()).toBe(`Showing all ${report.findings.length} findings`);
    await page.close();
  });

  it("narrows the rows to the matching ones when text is typed into the search box", async () => {
    const { page } = await open(url);
    await page.fill("#f-text", "render-gpu");
    const texts = await visibleRows(page).allTextContents();
    const expected = report.findings.filter(
      (f) => f.poolName === "render-gpu" || f.certificate?.referencedByPools.includes("render-gpu") || f.detail.includes("render-gpu"),
    );
    expect(texts).toHaveLength(expected.length);
    expect(texts.length).toBeLessThan(report.findings.length);
    for (const t of texts) expect(t.toLowerCase()).toContain("render-gpu");
    expect(await page.locator("#f-count").textContent()).toBe(`Showing ${expected.length} of ${report.findings.length} findings`);

    await page.fill("#f-text", "no such thing anywhere");
    expect(await visibleRows(page).count()).toBe(0);
    expect(await page.locator("#f-none").isVisible()).toBe(true);
    await page.close();
  });

  it("shows only warnings when the severity filter is set to warning", async () => {
    const { page } = await open(url);
    await page.selectOption("#f-sev", "warning");
    const severities = await visibleRows(page).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-severity")));
    expect(severities).toHaveLength(report.findings.filter((f) => f.severity === "warning").length);
    expect(new Set(severities)).toEqual(new Set(["warning"]));
    await page.close();
  });

  it("combines the subscription and owner filters", async () => {
    const { page } = await open(url);
    await page.selectOption("#f-owner", "s.ito@contoso.com");
    expect(await visibleRows(page).count()).toBe(report.findings.filter((f) => f.owners?.some((o) => o.address === "s.ito@contoso.com")).length);
    await page.selectOption("#f-owner", "__none__");
    expect(await visibleRows(page).count()).toBe(report.findings.filter((f) => !f.owners?.length).length);
    await page.selectOption("#f-owner", "");
    await page.selectOption("#f-sub", report.findings[0]?.subscriptionId ?? "");
    expect(await visibleRows(page).count()).toBe(report.findings.filter((f) => f.subscriptionId === report.findings[0]?.subscriptionId).length);
    await page.close();
  });

  it("sorts the rows when a column header is clicked, and reverses on a second click", async () => {
    const { page } = await open(url);
    const accounts = () =>
      page.locator("#findings-table tbody tr[data-row] td:nth-child(3) strong").allTextContents();
    const names = report.findings.map((f) => f.accountName);
    const asc = [...names].sort((a, b) => a.localeCompare(b));

    await page.click("#findings-table thead button[data-key=account]");
    expect(await accounts()).toEqual(asc);
    expect(await page.getAttribute("#findings-table thead th:nth-child(3)", "aria-sort")).toBe("ascending");

    await page.click("#findings-table thead button[data-key=account]");
    expect(await accounts()).toEqual([...asc].reverse());
    expect(await page.getAttribute("#findings-table thead th:nth-child(3)", "aria-sort")).toBe("descending");
    await page.close();
  });

  it("draws one chart point per history entry", async () => {
    const { page } = await open(url);
    const svg = page.locator("svg#history-chart");
    expect(await svg.getAttribute("data-points")).toBe(String(extras.history.length));
    expect(await svg.locator("g.pt").count()).toBe(extras.history.length);
    const box = await svg.boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(box?.height).toBeGreaterThan(100);
    await page.close();
  });

  it("does not overflow the page sideways on a 375px phone; the table scrolls in its own box", async () => {
    const { page, problems } = await open(url, 375);
    const widths = {
      page: await page.evaluate<number>("document.documentElement.scrollWidth"),
      viewport: await page.evaluate<number>("document.documentElement.clientWidth"),
      tableScroll: await page.evaluate<number>(
        '(() => { const s = document.querySelector("#findings .table-scroll"); return s.scrollWidth - s.clientWidth; })()',
      ),
    };
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    expect(widths.tableScroll).toBeGreaterThan(0);
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it("shows hostile names as text and runs none of them", async () => {
    const hostileUrl = publish("/hostile.html", renderReportHtml(hostileReport(), extras));
    const { page, problems } = await open(hostileUrl);
    expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
    expect(await page.locator("#findings-table img").count()).toBe(0);
    await page.fill("#f-text", "__pwned=1");
    expect(await visibleRows(page).count()).toBe(1);
    expect(await visibleRows(page).first().textContent()).toContain("<script>window.__pwned=1</script>");
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it.runIf(process.env.WRITE_SCREENSHOTS === "1")("saves docs/images/report.png", async () => {
    const { page } = await open(url, 1280);
    const out = resolve(ROOT, "docs/images/report.png");
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    await page.close();
  });
});
