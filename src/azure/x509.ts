import { X509Certificate } from "node:crypto";

/** The notAfter of a certificate's public data (base64 DER or PEM), or undefined when it cannot be parsed. */
export function certificateExpiry(publicData: string | undefined): string | undefined {
  if (!publicData) return undefined;
  try {
    const text = publicData.trim();
    const input = text.startsWith("-----BEGIN") ? text : Buffer.from(text, "base64");
    const expires = new Date(new X509Certificate(input).validTo);
    return Number.isNaN(expires.getTime()) ? undefined : expires.toISOString();
  } catch {
    // Public data that is not a certificate is reported without an expiry rather than failing the account.
    return undefined;
  }
}
