// A short, stable fingerprint of a text: FNV-1a, 64 bits, as 16 hex digits. Pure (core does no I/O, and node:crypto
// would be one more thing core depends on); not a cryptographic hash, and it need not be one: a collision only makes
// a changed owner tag look unchanged, so an undeliverable mark stands until UNDELIVERABLE_RETRY_DAYS as before.
const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const utf8 = new TextEncoder();

export function fingerprint(text: string): string {
  let hash = OFFSET;
  for (const byte of utf8.encode(text)) hash = ((hash ^ BigInt(byte)) * PRIME) & MASK;
  return hash.toString(16).padStart(16, "0");
}
