// Types for scripts/buildIfStale.js (a plain script, so that it runs before anything is compiled).
export const ROOT: string;
export function inputFingerprint(root?: string): string;
export function staleReason(root?: string, fingerprint?: string): string | undefined;
export function ensureBuilt(options?: { root?: string; always?: boolean; quiet?: boolean }): number;
