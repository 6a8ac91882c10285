// One small errors module: every failure the auditor reports carries a stable code and whether retrying can help.

export type ErrorCode =
  | "CONFIG.INVALID"
  | "SNAPSHOT.INVALID"
  | "AUTH.SIGN_IN_FAILED"
  | "INVENTORY.QUERY_FAILED"
  | "INVENTORY.TRUNCATED"
  | "INVENTORY.SCOPE_EMPTY"
  | "INVENTORY.MALFORMED_ANSWER"
  | "INVENTORY.PAGING_LOOP"
  | "BATCH.FORBIDDEN"
  | "BATCH.NOT_FOUND"
  | "BATCH.API_UNAVAILABLE"
  /** Azure refused the api-version the certificate read needs as retired: no account's certificates can be read. */
  | "BATCH.API_RETIRED"
  | "BATCH.REQUEST_FAILED"
  | "BATCH.MALFORMED_ANSWER"
  | "BATCH.PAGING_LOOP"
  | "RUN.BUDGET_SPENT"
  | "LEDGER.UNAVAILABLE"
  | "LOCK.HELD"
  | "EMAIL.SEND_FAILED"
  | "OWNERS.GRAPH_FORBIDDEN"
  | "OWNERS.GRAPH_FAILED"
  | "OWNERS.ROLES_UNREADABLE"
  | "EMAIL.BAD_DELIVERY_REPORT"
  | "INPUT.UNKNOWN_RULE"
  | "INTERNAL";

export class AuditError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** HTTP status of the call that failed, when there was one. */
  readonly statusCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; statusCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuditError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.statusCode = options.statusCode;
  }
}

export function isAuditError(value: unknown): value is AuditError {
  return value instanceof AuditError;
}

/** Errors that make the whole run meaningless (no sign-in): they fail the run instead of one scope. */
export function isFatal(value: unknown): value is AuditError {
  return value instanceof AuditError && value.code === "AUTH.SIGN_IN_FAILED";
}

/** Turns any thrown value into an Error, so callers can rely on `.message`. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return new Error(`Non-error thrown: ${text}`);
}
