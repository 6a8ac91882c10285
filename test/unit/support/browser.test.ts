import { describe, expect, it, vi } from "vitest";
import { browserAvailable, browserSkipReason } from "../../support/browser.js";

describe("browser tests without Chromium", () => {
  it("skip with a reason that names the missing binary, said once", () => {
    vi.stubEnv("CI", "");
    try {
      const lines: string[] = [];
      const missing = "/nonexistent/chromium-for-test";
      expect(browserAvailable(missing, (l) => lines.push(l))).toBe(false);
      expect(browserAvailable(missing, (l) => lines.push(l))).toBe(false);
      expect(lines).toEqual([`browser tests skipped: Chromium not found at ${missing} (apt-get install chromium, or set CHROMIUM_PATH)\n`]);
      expect(browserSkipReason(process.execPath)).toBeUndefined();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
