// Checks the answers of ARM list calls (Batch management) and Resource Graph before anything in them is believed, the
// way the simulator's snapshot is checked: a 200 that is not the documented shape (no `value`, an HTML page, a wrong
// type) fails its scope with the reason, and is never read as "nothing there". Also guards paging: a continuation
// (nextLink or $skipToken) that repeats, or more pages than a scope may have, ends that scope as failed.
//
// Shapes: ARM list pages are `{ value: [...], nextLink?: string }` (Batch CertificateList.json / PoolList.json in
// Azure/azure-rest-api-specs, stable/2024-07-01); Resource Graph answers are `{ totalRecords, count, resultTruncated,
// data, facets?, $skipToken? }` (ResourcesNextPageQuery.json, stable/2024-04-01).
import type { FullOperationResponse } from "@azure/core-client";
import { z } from "zod";
import { AuditError } from "../core/errors.js";

/** An ARM resource in a list: only what the auditor reads is required; `$select` answers omit properties. */
const armItem = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  properties: z.record(z.string(), z.unknown()).optional(),
});

const armListPage = z.looseObject({
  value: z.array(armItem),
  nextLink: z.string().min(1).nullish(),
});

export type ArmListPage = z.infer<typeof armListPage>;

/**
 * A page of Location_ListSupportedVirtualMachineSkus (SupportedSkusResult: `value` of SupportedSku `{ name, familyName,
 * capabilities, batchSupportEndOfLife? }`, `nextLink`; stable/2024-07-01 BatchManagement.json). SKUs have no `id`.
 */
const supportedSkuPage = z.looseObject({
  value: z.array(z.looseObject({ name: z.string().min(1), batchSupportEndOfLife: z.string().nullish() })),
  nextLink: z.string().min(1).nullish(),
});

export type SupportedSkuPage = z.infer<typeof supportedSkuPage>;

/** One page of a region's supported VM sizes, checked; throws BATCH.MALFORMED_ANSWER naming what was wrong. */
export function parseSupportedSkuPage(body: unknown, what: string): SupportedSkuPage {
  return check(supportedSkuPage, body, what, "BATCH.MALFORMED_ANSWER");
}

const resourceGraphPage = z
  .looseObject({
    totalRecords: z.number().int().nonnegative(),
    count: z.number().int().nonnegative(),
    resultTruncated: z.enum(["true", "false"]),
    // The auditor asks for resultFormat=objectArray: every row is an object.
    data: z.array(z.record(z.string(), z.unknown())),
    $skipToken: z.string().min(1).nullish(),
  })
  .refine((page) => page.count === page.data.length, { message: "count does not match the number of rows in data", path: ["count"] });

export type ResourceGraphPage = z.infer<typeof resourceGraphPage>;

/** The JSON body of a raw answer: the SDK's parse when it made one, else the text (an HTML page is not JSON). */
export function answerBody(raw: Pick<FullOperationResponse, "parsedBody" | "bodyAsText" | "headers"> | undefined): unknown {
  if (!raw) return undefined;
  if (raw.parsedBody !== undefined) return raw.parsedBody;
  const text = raw.bodyAsText ?? "";
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new NotJson(raw.headers.get("content-type") ?? "no content type", text);
  }
}

class NotJson {
  constructor(
    readonly contentType: string,
    readonly text: string,
  ) {}
}

/**
 * One page of an ARM list (Batch certificates, pools), checked; throws `code` (e.g. BATCH.MALFORMED_ANSWER) naming
 * what was wrong. `what` names the list in the message, e.g. "the certificate list of Batch account x".
 */
export function parseArmListPage(body: unknown, what: string, code: MalformedCode = "BATCH.MALFORMED_ANSWER"): ArmListPage {
  return check(armListPage, body, what, code);
}

/** One Resource Graph answer, checked; throws INVENTORY.MALFORMED_ANSWER naming what was wrong. */
export function parseResourceGraphPage(body: unknown, what: string): ResourceGraphPage {
  return check(resourceGraphPage, body, what, "INVENTORY.MALFORMED_ANSWER");
}

type MalformedCode = "BATCH.MALFORMED_ANSWER" | "INVENTORY.MALFORMED_ANSWER";

function check<T>(schema: z.ZodType<T>, body: unknown, what: string, code: MalformedCode): T {
  if (body instanceof NotJson) {
    const start = body.text.trim().slice(0, 80).replace(/\s+/g, " ");
    throw new AuditError(code, `${what}: the answer was not JSON (${body.contentType}${start ? `: "${start}"` : ", empty body"}); nothing in it was taken`, { statusCode: 200 });
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 3).map((i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`);
  const more = result.error.issues.length > 3 ? ` (and ${result.error.issues.length - 3} more)` : "";
  throw new AuditError(code, `${what}: the answer is not the documented shape (${problems.join("; ")}${more}); nothing in it was taken`, { statusCode: 200 });
}

/** Default for MAX_PAGES_PER_SCOPE: 1,000 pages of up to 1,000 rows each. */
export const DEFAULT_MAX_PAGES = 1000;

/**
 * Follows one paged list: counts its pages and remembers every continuation it was given, so that a nextLink or
 * $skipToken that comes back, or a list longer than `maxPages`, ends the list with a reason instead of looping.
 */
export class PagingGuard {
  private pages = 0;
  private readonly seen = new Set<string>();

  constructor(
    private readonly what: string,
    private readonly maxPages: number = DEFAULT_MAX_PAGES,
    private readonly code: "BATCH.PAGING_LOOP" | "INVENTORY.PAGING_LOOP" = "BATCH.PAGING_LOOP",
  ) {}

  /** Call for each page received, with the continuation it carries (if any); throws when paging must stop. */
  page(next: string | null | undefined, kind: "nextLink" | "$skipToken"): void {
    this.pages++;
    if (!next) return;
    if (this.seen.has(next)) {
      throw new AuditError(this.code, `${this.what}: page ${this.pages} gave a ${kind} that an earlier page already gave; paging stopped so the run can finish`);
    }
    this.seen.add(next);
    if (this.pages >= this.maxPages) {
      throw new AuditError(this.code, `${this.what}: more than ${this.maxPages} pages (MAX_PAGES_PER_SCOPE); paging stopped so the run can finish`);
    }
  }
}

/** Why a read was not done or not finished: the run's budget signal fired (its reason is an AuditError). */
export function stoppedReason(signal: AbortSignal): AuditError {
  const reason: unknown = signal.reason;
  if (reason instanceof AuditError) return reason;
  return new AuditError("RUN.BUDGET_SPENT", "The run was stopped before this was read (run time budget spent)");
}
