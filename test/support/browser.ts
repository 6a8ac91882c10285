// Headless Chromium for tests that look at what a person sees (a digest email, the report page).
// Debian's chromium is installed by .ci/run; on a developer machine without it these tests skip, in CI they fail.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why browser tests cannot run here (the binary they need is missing), or undefined when they can. */
export function browserSkipReason(path = CHROMIUM_PATH): string | undefined {
  if (existsSync(path)) return undefined;
  return `Chromium not found at ${path} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

const said = new Set<string>();

/**
 * True when a browser test can run; in CI a missing browser is an error, not a skip. A skip says why on stderr, once
 * per binary (vitest's skipIf takes no reason).
 */
export function browserAvailable(path = CHROMIUM_PATH, warn: (line: string) => void = (line) => process.stderr.write(line)): boolean {
  const reason = browserSkipReason(path);
  if (reason === undefined) return true;
  if (process.env.CI) throw new Error(`${reason}; .ci/run must install Debian's chromium`);
  if (!said.has(path)) {
    said.add(path);
    warn(`browser tests skipped: ${reason}\n`);
  }
  return false;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  }); // Playwright gives each launch a new empty profile of its own.
}
