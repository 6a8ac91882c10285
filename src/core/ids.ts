// Identifier shapes shared by configuration, the CLI and the HTTP API.

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID in its usual 8-4-4-4-12 hex form (subscription ids, client ids), either case. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}
