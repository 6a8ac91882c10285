// A credential that cannot get a token makes every call fail the same way. That is not an unreadable scope but a
// run that cannot start: classify it once, so the run fails with a short reason instead of an "incomplete" audit.
import { AuditError } from "../core/errors.js";

/** Error names @azure/identity gives to a failed sign-in (its credential classes and the chained credential). */
const SIGN_IN_ERRORS = new Set(["CredentialUnavailableError", "AuthenticationError", "AggregateAuthenticationError", "AuthenticationRequiredError"]);

export function signInFailure(error: unknown): AuditError | undefined {
  if (!(error instanceof Error) || !SIGN_IN_ERRORS.has(error.name)) return undefined;
  // A chained credential's own message only says the chain failed; its inner errors say why.
  const inner = (error as { errors?: unknown }).errors;
  const reasons = Array.isArray(inner) && inner.length > 0 ? inner.map((e) => firstLine(e instanceof Error ? e.message : String(e))) : [firstLine(error.message)];
  return new AuditError("AUTH.SIGN_IN_FAILED", `Could not sign in to Azure: ${clip([...new Set(reasons)].join("; "))}`, { cause: error });
}

/** The chained credential's message repeats every credential's failure over many lines; the first says enough. */
function firstLine(message: string): string {
  return message.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? "no credential could get a token";
}

function clip(text: string): string {
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}
