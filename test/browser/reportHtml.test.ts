// The report page as a person sees it: served with its CSP header from a loopback server and driven
// in headless Chromium. Anything the CSP blocks or any script error fails the test.
import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditReport } from "../../src/core/model.js";
import { REPORT_CSP_HEADER, renderReportHtml, type ReportExtras } from "../../src/render/reportHtml.js";
import { browserAvailable, launchBrowser } from "../support/browser.js";
import { sampleExtras, sampleReport } from "../support/sampleReport.js";
import { runDemo } from "../support/demoRun.js";

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
  let demoUrl = "";

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
    // The demo tenant's page, as `npm start` writes it: real names, owners and migration links.
    const out = await runDemo({ format: "html" });
    demoUrl = publish("/demo.html", readFileSync(join(out, "report.html"), "utf8"));
  }, 120_000);

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

  it.each([1280, 1400, 1600, 1920])("fits the findings table in its box at %i px: no column clipped, nothing to scroll sideways", async (width) => {
    const { page, problems } = await open(demoUrl, width);
    const fit = await page.evaluate<{ scroll: number; client: number; page: number; viewport: number; lastHeader: number; box: number }>(
      `(() => { const s = document.querySelector("#findings .table-scroll"); const r = s.getBoundingClientRect();
        const last = document.querySelector("#findings-table thead th:last-child").getBoundingClientRect();
        return { scroll: s.scrollWidth, client: s.clientWidth, page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth, lastHeader: last.right, box: r.right }; })()`,
    );
    const spilling = await page.evaluate<string[]>(
      `[...document.querySelectorAll("#findings-table td")].filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => td.dataset.label + ": " + td.textContent.trim().slice(0, 40))`,
    );
    expect(spilling).toEqual([]);
    expect(fit.scroll).toBeLessThanOrEqual(fit.client);
    expect(fit.lastHeader).toBeLessThanOrEqual(fit.box + 0.5);
    expect(fit.page).toBeLessThanOrEqual(fit.viewport);
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it("shows findings as cards on a 390px phone: nothing scrolls sideways, each finding a block with its labels", async () => {
    const { page, problems } = await open(demoUrl, 390);
    const layout = await page.evaluate<{ page: number; viewport: number; scroll: number; client: number; rowDisplay: string; header: string; label: string }>(
      `(() => { const s = document.querySelector("#findings .table-scroll"); const row = document.querySelector("#findings-table tbody tr");
        const cell = row.querySelector("td:nth-child(3)");
        return { page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth, scroll: s.scrollWidth, client: s.clientWidth,
          rowDisplay: getComputedStyle(row).display, header: getComputedStyle(document.querySelector("#findings-table thead")).display,
          label: getComputedStyle(cell, "::before").content }; })()`,
    );
    expect(layout.page).toBeLessThanOrEqual(layout.viewport);
    expect(layout.scroll).toBeLessThanOrEqual(layout.client);
    expect(layout.rowDisplay).toBe("block");
    expect(layout.header).toBe("none");
    expect(layout.label).toBe('"Account"');
    expect(problems.errors).toEqual([]);
    await page.close();
  });

  it("names the migrated pool on the page", async () => {
    const { page } = await open(demoUrl);
    expect(await page.locator("#migrated-count").textContent()).toBe("1: imagingbatch/render-pool-kv");
    await page.close();
  });

  it.each([390, 1280])("keeps every finding row short at %i px: owner problems one line per bad value, the resource named once", async (width) => {
    const { page } = await open(demoUrl, width);
    const rows = await page.evaluate<{ text: string; height: number; problems: string[] }[]>(
      `[...document.querySelectorAll("#findings-table tbody tr[data-row]")].map((r) => ({ text: r.textContent.trim().slice(0, 60), height: r.getBoundingClientRect().height,
        problems: [...r.querySelectorAll(".owner-problem")].map((p) => p.textContent) }))`,
    );
    const legacy = rows.filter((r) => r.problems.some((p) => p.includes("risk team (ask Bob)")));
    expect(legacy.length).toBeGreaterThan(0);
    for (const r of legacy) expect(r.problems.filter((p) => p.includes("risk team"))).toHaveLength(1);
    // A row as tall as 1,216 px was the resource id repeated once per word of a bad tag value.
    for (const r of rows) expect(r.height, r.text).toBeLessThan(width === 390 ? 900 : 420);
    await page.close();
  });

  it("draws the trend chart's text at a readable size on a 390 px phone", async () => {
    const { page } = await open(demoUrl, 390);
    const sizes = await page.evaluate<{ text: string; px: number }[]>(
      `[...document.querySelectorAll("#trend svg text")].filter((t) => t.getClientRects().length > 0).map((t) => ({ text: t.textContent, px: t.getBoundingClientRect().height }))`,
    );
    expect(sizes.length).toBeGreaterThan(0);
    for (const s of sizes) expect(s.px, s.text ?? "").toBeGreaterThanOrEqual(11);
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
    // The demo tenant's page (what `npm start` writes) at a common laptop width.
    const { page } = await open(demoUrl, 1400);
    const out = resolve(ROOT, "docs/images/report.png");
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    await page.close();
  });
});
