// Looks at a rendered digest the way a recipient would: in a real browser, on a phone and on a desktop.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Finding } from "../../src/core/model.js";
import { RETIREMENT_DATE } from "../../src/core/model.js";
import { historyKey, planDigests } from "../../src/core/digestPlan.js";
import { defaultReminderPolicy, type ReminderHistory } from "../../src/core/schedule.js";
import { renderDigest, type RenderContext } from "../../src/render/digestEmail.js";
import { browserAvailable, launchBrowser } from "../support/browser.js";
import { runDemo } from "../support/demoRun.js";
import { DIGEST_OWNER, ETL, ownerDigest, ownerDigestPlan } from "../support/ownerDigest.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const AS_OF = "2026-11-26";
const OWNER = { address: "alice.smith@contoso.com", source: 'account tag "owner"' };

function account(sub: string, subName: string, rg: string, name: string) {
  const accountId = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Batch/batchAccounts/${name}`;
  return { subscriptionId: sub, subscriptionName: subName, resourceGroup: rg, accountName: name, accountId };
}

function certFinding(acct: ReturnType<typeof account>, thumb: string, pools: string[], detail = ""): Finding {
  const name = `sha1-${thumb}`;
  const id = `${acct.accountId}/certificates/${name}`;
  return {
    ...acct,
    id: `account-certificate:${id.toLowerCase()}`,
    kind: "account-certificate",
    severity: "critical",
    resourceId: id,
    certificate: {
      id,
      name,
      accountId: acct.accountId,
      thumbprint: thumb,
      thumbprintAlgorithm: "sha1",
      provisioningState: "Succeeded",
      expiresOn: "2027-03-31T00:00:00Z",
      referencedByPools: pools,
    },
    detail,
    owners: [OWNER],
  };
}

function poolFinding(acct: ReturnType<typeof account>, pool: string, thumbs: string[]): Finding {
  const id = `${acct.accountId}/pools/${pool}`;
  return {
    ...acct,
    id: `pool-certificate-reference:${id.toLowerCase()}`,
    kind: "pool-certificate-reference",
    severity: "warning",
    resourceId: id,
    poolName: pool,
    references: thumbs.map((t) => ({ id: `${acct.accountId}/certificates/sha1-${t}`, certificateName: `sha1-${t}`, resolves: true, storeLocation: "LocalMachine", storeName: "My" })),
    detail: `Pool ${pool} references ${thumbs.length} account certificate${thumbs.length === 1 ? "" : "s"}.`,
    owners: [OWNER],
  };
}

export function realisticDigestFindings(): Finding[] {
  const prodRender = account("8f2b6c1e-3d4a-4b5c-9e6f-7a8b9c0d1e2f", "Contoso Production", "rg-render-weu", "contosorender01");
  const prodEtl = account("8f2b6c1e-3d4a-4b5c-9e6f-7a8b9c0d1e2f", "Contoso Production", "rg-etl-neu", "contosoetlbatch");
  const dev = account("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "Contoso Dev/Test <sandbox>", "rg-dev", "contosodevbatch");
  const t1 = "0a0e4f50d51beadeac1d35afc5116098e7902e6e";
  const t2 = "c1e494a415149c5f211c4778b52f2e834a07247c";
  const t3 = "5383ce0343cb6563281ca97c1d4d712209cffa97";
  return [
    certFinding(prodRender, t1, ["render-win-pool", "render-linux-gpu-large-pool"], "Deleting this certificate failed: nodes in pool render-win-pool still reference it (NodesReferencingCertificate)."),
    poolFinding(prodRender, "render-win-pool", [t1]),
    poolFinding(prodRender, "render-linux-gpu-large-pool", [t1, t2]),
    certFinding(prodEtl, t2, []),
    poolFinding(prodEtl, "etl-nightly", [t2]),
    certFinding(dev, t3, ["<script>alert('x')</script>"]),
  ];
}

export const CTX: RenderContext = {
  asOf: AS_OF,
  deadline: RETIREMENT_DATE,
  retirementDate: RETIREMENT_DATE,
  reportUrl: "https://contosoaudit.blob.core.windows.net/reports/2026-11-26/report.html",
  senderName: "Contoso Cloud Platform",
};

async function renderRealistic() {
  const findings = realisticDigestFindings();
  const histories = new Map<string, ReminderHistory>([
    [historyKey(OWNER.address, findings[0]?.id ?? ""), { firstNotifiedOn: "2024-01-01", lastNotifiedOn: "2026-11-12", lastMilestone: "overdue-40", overdueRemindersSent: 40 }],
  ]);
  const [plan] = planDigests(findings, histories, AS_OF, defaultReminderPolicy(RETIREMENT_DATE), []);
  if (!plan) throw new Error("expected a digest");
  return renderDigest(plan, CTX);
}

const available = browserAvailable();

/**
 * Elements whose content is wider than their box and that do not scroll it into view: text cut on the right. A box
 * that scrolls counts as cut too, because web mail drops `overflow` (what scrolls here is clipped there).
 */
async function hiddenOverflow(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll("body *")]
    .filter((el) => getComputedStyle(el).display !== "inline" && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
    .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : "") + ": " + (el.scrollWidth - el.clientWidth) + " px hidden, " + (el.textContent || "").trim().slice(0, 60))`);
}

describe.skipIf(!available)("the digest email in a browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each([
    ["phone", 375, 740],
    ["desktop", 1280, 900],
  ])("fits a %s screen without sideways scrolling and shows the key text", async (_label, width, height) => {
    const email = await renderRealistic();
    const page = await browser.newPage({ viewport: { width, height } });
    try {
      // Offline: an email must not need the network to render.
      await page.route("**/*", (route) => route.abort());
      await page.setContent(email.html, { waitUntil: "load" });
      // A string expression: this project compiles without the DOM lib.
      const { scrollWidth, innerWidth } = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
        "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
      );
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);

      for (const text of ["6 items need action", "1,001 days overdue", "contosorender01", "Replace pool render-win-pool", "What to do in this account:", "Why you got this:"]) {
        await expect.poll(() => page.getByText(text, { exact: false }).filter({ visible: true }).count(), { message: text, timeout: 2000 }).toBeGreaterThan(0);
      }
      // The hostile pool name shows as text; no script element came from it.
      expect(await page.locator("script").count()).toBe(0);
      expect(await page.getByText("<script>alert('x')</script>", { exact: false }).first().isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });

  // The digest one owner gets for five findings over two accounts (pools with their replacement kits, the certificates
  // they use, an unused certificate, a reference to a certificate the account does not hold, and a broken owner tag),
  // made by the audit, the planner and the renderer. On a phone it has to be short enough that the owner reads it.
  it.each([
    // On a phone the wrapped commands are most of the height: they used to scroll sideways, hidden (2,600 px then).
    // The kit's steps grew when they became right (a Cer's PEM step, waiting for idle nodes before moving work, job
    // schedules moved too, the rule and countdown on each item): 4,287 px on a phone and 2,801 on a desktop then.
    ["phone", 390, 4600, 844],
    ["desktop", 1280, 3000, 900],
  ])("a five-item digest on a %s (%i px wide) is at most %i px tall, never scrolls sideways or cuts anything, and wraps every command whole", async (_label, width, maxHeight, height) => {
    const plan = await ownerDigestPlan();
    expect(plan.items).toHaveLength(5);
    expect(plan.groups.flatMap((g) => g.accounts)).toHaveLength(2);
    const email = await ownerDigest();
    const page = await browser.newPage({ viewport: { width, height } });
    try {
      await page.route("**/*", (route) => route.abort());
      await page.setContent(email.html, { waitUntil: "load" });
      const m = await page.evaluate<{ height: number; scrollWidth: number; clientWidth: number; blocks: number; blockLines: string[] }>(`(() => {
        const root = document.documentElement;
        const blocks = [...document.querySelectorAll(".cmd")];
        return { height: root.scrollHeight, scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, blocks: blocks.length,
          blockLines: blocks.flatMap((b) => b.innerText.split("\\n")) };
      })()`);
      expect(m.scrollWidth).toBeLessThanOrEqual(m.clientWidth);
      // Two accounts' command blocks, the owner tag fix and the snooze command.
      expect(m.blocks).toBeGreaterThanOrEqual(4);
      expect(await hiddenOverflow(page)).toEqual([]);
      // Wrapped, not broken: each line of a block, as copied, is a whole command of the plain-text part.
      const textLines = new Set(email.text.split("\n").map((l) => l.trim()));
      for (const line of m.blockLines) expect(textLines.has(line.trim()), line).toBe(true);
      expect(m.height).toBeLessThanOrEqual(maxHeight);

      for (const text of ["5 items need action", "contosoetlbatch", "contosorender01", "Replace pool etl-nightly", "Replace pool render-win-pool", "unused certificate", "bob@@contoso", "which this account does not hold"]) {
        await expect.poll(() => page.getByText(text, { exact: false }).filter({ visible: true }).count(), { message: text, timeout: 2000 }).toBeGreaterThan(0);
      }
      expect(email.html).toContain(`az tag update --resource-id ${ETL.id} --operation Merge --tags &#39;owner=&lt;corrected-address&gt;&#39;`);
      expect(plan.recipient).toBe(DIGEST_OWNER);
    } finally {
      await page.close();
    }
  });
  // Every digest the demo tenant's owners get (`npm start`'s own output), at a phone, a laptop and a wide screen.
  describe("the demo tenant's digests", () => {
    let digests: { name: string; html: string }[] = [];
    beforeAll(async () => {
      const dir = join(await runDemo({ format: "json" }), "emails-dry-run");
      digests = readdirSync(dir)
        .filter((f) => f.endsWith(".html"))
        .map((f) => ({ name: f, html: readFileSync(join(dir, f), "utf8") }));
    }, 120_000);

    it.each([390, 1280, 1920])("cut nothing at %i px: every command block wraps inside its box", async (width) => {
      expect(digests.length).toBeGreaterThan(0);
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      try {
        await page.route("**/*", (route) => route.abort());
        for (const d of digests) {
          await page.setContent(d.html, { waitUntil: "load" });
          expect(await page.locator(".cmd").count(), d.name).toBeGreaterThan(0);
          expect(await hiddenOverflow(page), d.name).toEqual([]);
        }
      } finally {
        await page.close();
      }
    });

    it.runIf(process.env.WRITE_SCREENSHOTS === "1").each([
      ["desktop", 1280],
      ["phone", 390],
    ])("saves docs/images/digest-%s.png: the demo digest with the broken owner tag", async (label, width) => {
      // The owner told about riskbatchlegacy's owner tag ('risk team (ask Bob)'), else the longest digest.
      const chosen = digests.find((d) => d.html.includes("risk team (ask Bob)")) ?? [...digests].sort((a, b) => b.html.length - a.html.length)[0];
      if (!chosen) throw new Error("the demo sent no digest");
      const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
      try {
        await page.route("**/*", (route) => route.abort());
        await page.setContent(chosen.html, { waitUntil: "load" });
        const path = resolve(ROOT, `docs/images/digest-${label}.png`);
        mkdirSync(dirname(path), { recursive: true });
        await page.screenshot({ path, fullPage: true });
      } finally {
        await page.close();
      }
    });
  });
});
