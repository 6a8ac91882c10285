import { createHash, randomUUID } from "node:crypto";

/**
 * A UUID derived from a key (sha256, shaped as a version-5-style UUID). Communication Email accepts only GUIDs
 * as operation ids, and the same reminder must always get the same id.
 */
export function deterministicUuid(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  const variant = ((parseInt(h[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Run ids sort by time and say when the run started: run-2026-11-26T07-00-00Z-1a2b3c. */
export function newRunId(now: Date): string {
  return `run-${now.toISOString().slice(0, 19).replace(/:/g, "-")}Z-${randomUUID().slice(0, 6)}`;
}
