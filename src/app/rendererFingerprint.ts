// A fingerprint of the code that renders the stored report files (src/render and src/report as deployed, page assets
// included), so a stored report.html or report.csv is served only to the build that made it. The page's CSP and the
// CSV's columns alone would miss an escaping fix or new wording: after such a deploy the previous run's files would be
// served until the next daily audit. Read once, at start-up, from the files next to this module.
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.name.endsWith(".map") ? [] : [path];
  });
}

const DEPLOYED = [new URL("../render/", import.meta.url), new URL("../report/", import.meta.url)];

export function rendererFingerprint(dirs: readonly URL[] = DEPLOYED): string {
  try {
    const hash = createHash("sha256");
    for (const dir of dirs) {
      const root = fileURLToPath(dir);
      for (const file of filesUnder(root).sort()) hash.update(file.slice(root.length)).update("\0").update(readFileSync(file)).update("\0");
    }
    return hash.digest("hex").slice(0, 16);
  } catch {
    // Unreadable: a value no stored file carries, so every request renders from the JSON (slower, never stale).
    return `unread-${randomUUID()}`;
  }
}
