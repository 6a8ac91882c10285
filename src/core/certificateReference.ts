// Pools reference account certificates by id, but real ids are not always well-formed (the official example
// carries an extra `/pools/<name>/` segment) and differ in case. The part that identifies a certificate within
// its account is the trailing `certificates/<algorithm>-<thumbprint>` segment, so that is what we match on.

const TRAILING_CERTIFICATE = /\/certificates\/([^/]+)\/?$/i;

/** `sha1-abc...` (lower case) from a certificate or reference id, or undefined when the id names none. */
export function certificateNameOf(id: string): string | undefined {
  const match = TRAILING_CERTIFICATE.exec(id.trim());
  return match?.[1]?.toLowerCase();
}

/** The Batch account id a pool, certificate or reference id belongs to, lower-cased; undefined if there is none. */
export function accountIdOf(resourceId: string): string | undefined {
  const match = /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.batch\/batchaccounts\/[^/]+)/i.exec(resourceId);
  return match?.[1]?.toLowerCase();
}

/** The last segment of a resource id (a name), or the id itself when it has none. */
export function lastSegment(id: string): string {
  return id.split("/").filter(Boolean).pop() ?? id;
}

export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup: string;
}

export function parseResourceId(resourceId: string): ParsedResourceId | undefined {
  const match = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)/i.exec(resourceId);
  if (!match?.[1] || !match[2]) return undefined;
  return { subscriptionId: match[1], resourceGroup: match[2] };
}
