// The tenant snapshot the simulated Azure serves: subscriptions, ARM resources and injected faults.
// A malformed snapshot is refused with every problem named by entry and field.
import { parseTree, type ParseError } from "jsonc-parser";
import { readFile } from "node:fs/promises";
import { z } from "zod";

/** A snapshot that cannot be served; `code` is stable, the message names every problem by entry and field. */
export class SnapshotError extends Error {
  readonly code = "SNAPSHOT.INVALID";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SnapshotError";
  }
}

const tags = z.record(z.string(), z.string());

const subscription = z
  .object({
    subscriptionId: z.string().min(1),
    displayName: z.string(),
    state: z.enum(["Enabled", "Warned", "PastDue", "Disabled", "Deleted"]).optional(),
    tags: tags.optional(),
    /** Management groups the subscription sits under (any depth), for management-group scoped queries. */
    managementGroups: z.array(z.string().min(1)).optional(),
  })
  .strict();

const ARM_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+(\/providers\/[^/]+\/[^/]+\/[^/]+(\/[^/]+\/[^/]+)*)?$/i;

const resource = z
  .object({
    id: z.string().regex(ARM_ID, "must be an ARM id: /subscriptions/{id}/resourceGroups/{name}[/providers/...]"),
    name: z.string().min(1),
    type: z.string().min(1),
    location: z.string().optional(),
    tags: tags.optional(),
    etag: z.string().optional(),
    kind: z.string().optional(),
    identity: z.unknown().optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const fault = z
  .object({
    pathPattern: z.string().refine(isRegex, "must be a valid regular expression"),
    method: z.string().optional(),
    status: z.number().int().min(100).max(599).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    times: z.number().int().positive().optional(),
    /** Skip this many matching requests before the fault applies (e.g. fail the 3rd email). */
    after: z.number().int().nonnegative().optional(),
    delayMs: z.number().int().nonnegative().optional(),
  })
  .strict();

// Role definitions and assignments as ARM gives them (azure-rest-api-specs, specification/authorization/resource-manager/
// Microsoft.Authorization/stable/2022-04-01: RoleDefinition, RoleAssignment), served through Resource Graph's
// `authorizationresources` table (Learn: "Azure Resource Graph table and resource type reference").
const roleDefinition = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    type: z.literal("Microsoft.Authorization/roleDefinitions"),
    properties: z.object({ roleName: z.string().min(1), type: z.enum(["BuiltInRole", "CustomRole"]) }).strict(),
  })
  .strict();

const roleAssignment = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    type: z.literal("Microsoft.Authorization/roleAssignments"),
    properties: z
      .object({
        roleDefinitionId: z.string().min(1),
        principalId: z.string().min(1),
        principalType: z.enum(["User", "Group", "ServicePrincipal"]),
        /** The root scope `/`, or a management group, subscription, resource group or resource id. */
        scope: z.string().regex(/^\/$|^\/(subscriptions|providers\/Microsoft\.Management\/managementGroups)\/[^/]+/i, "must be /, a subscription, resource group, resource or management group id"),
      })
      .strict(),
  })
  .strict();

// Microsoft Graph directory objects (Learn: Microsoft Graph v1.0 user, group and servicePrincipal resource types), with
// the properties owner resolution reads; a group lists its members' ids.
const principal = z.discriminatedUnion("@odata.type", [
  z
    .object({
      "@odata.type": z.literal("#microsoft.graph.user"),
      id: z.string().min(1),
      mail: z.string().nullable(),
      userPrincipalName: z.string().min(1),
      accountEnabled: z.boolean(),
    })
    .strict(),
  z
    .object({
      "@odata.type": z.literal("#microsoft.graph.group"),
      id: z.string().min(1),
      displayName: z.string(),
      mail: z.string().nullable(),
      mailEnabled: z.boolean(),
      members: z.array(z.string().min(1)),
      /** Graph's group `visibility`; "HiddenMembership" hides the members from callers without Member.Read.Hidden. */
      visibility: z.enum(["Public", "Private", "HiddenMembership"]).optional(),
    })
    .strict(),
  z
    .object({
      "@odata.type": z.literal("#microsoft.graph.servicePrincipal"),
      id: z.string().min(1),
      displayName: z.string(),
    })
    .strict(),
]);

/**
 * How Resource Graph serves the tenant. Resource Graph reads each resource at its provider's latest non-preview
 * api-version ("the property expected may not be available", Learn: Azure Resource Graph, "Troubleshoot errors" /
 * "Understanding the query language"); which one it uses for Batch pools cannot be known offline, so it is a setting.
 */
const resourceGraphSettings = z
  .object({
    /**
     * The api-version whose pool contract the `batchresources` pool rows follow. From 2025-06-01 on
     * (azure-rest-api-specs, specification/batch/resource-manager/Microsoft.Batch/stable/2025-06-01/BatchManagement.json)
     * pools have neither `certificates` nor `cloudServiceConfiguration`. Absent: rows carry every snapshot property.
     */
    batchPoolApiVersion: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, "must be an api-version such as 2025-06-01")
      .optional(),
  })
  .strict();

/**
 * A VM size Batch supports in a region, as Location_ListSupportedVirtualMachineSkus lists it (SupportedSku: `name`,
 * `familyName`, `capabilities`, and from api-version 2024-02-01 `batchSupportEndOfLife`, a date-time; azure-rest-api-specs
 * specification/batch/resource-manager/Microsoft.Batch/stable/2024-07-01/BatchManagement.json and its example
 * LocationListVirtualMachineSkus.json).
 */
const supportedSku = z
  .object({
    name: z.string().min(1),
    familyName: z.string().min(1).optional(),
    batchSupportEndOfLife: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/**
 * The final delivery status the simulated Communication Services reports for an address (default Delivered): the
 * `status` values of Microsoft.Communication.EmailDeliveryReportReceived (Microsoft Learn, "Azure Communication
 * Services - Email events"; AcsEmailDeliveryReportStatus in @azure/eventgrid-system-events).
 */
export const EMAIL_DELIVERY_STATUSES = ["Delivered", "Bounced", "Suppressed", "Quarantined", "FilteredSpam", "Failed"] as const;
export type EmailDeliveryStatus = (typeof EMAIL_DELIVERY_STATUSES)[number];

export const snapshotSchema = z
  .object({
    tenantId: z.string().min(1),
    subscriptions: z.array(subscription),
    resources: z.array(resource),
    faults: z.array(fault).optional(),
    roleDefinitions: z.array(roleDefinition).optional(),
    roleAssignments: z.array(roleAssignment).optional(),
    principals: z.array(principal).optional(),
    resourceGraph: resourceGraphSettings.optional(),
    /**
     * Batch's supported VM sizes per region (lower-cased location, e.g. `westeurope`); a region not listed answers the
     * published example's list (packages/simulated-azure/src/batchApi.ts, DEFAULT_VM_SKUS).
     */
    batchVmSkus: z.record(z.string().min(1), z.array(supportedSku)).optional(),
    /**
     * Refuse the certificate API's api-versions (those before `refuseApiVersionsBefore`) as a retired api-version is
     * refused, for certificate lists and pool lists alike (batchApi.ts says what ARM answers).
     */
    batchApi: z.object({ refuseApiVersionsBefore: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date such as 2025-06-01") }).strict().optional(),
    /** Address (case-insensitive) -> its delivery report's status. */
    emailDelivery: z.record(z.string(), z.enum(EMAIL_DELIVERY_STATUSES)).optional(),
  })
  .strict();

export type TenantSnapshot = z.infer<typeof snapshotSchema>;
export type SnapshotResource = z.infer<typeof resource>;
export type SnapshotFault = z.infer<typeof fault>;
export type SnapshotSupportedSku = z.infer<typeof supportedSku>;
export type SnapshotPrincipal = z.infer<typeof principal>;

export function parseSnapshot(data: unknown, source = "snapshot"): TenantSnapshot {
  const result = snapshotSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  - ${describePath(data, issue.path)}: ${issue.message}`);
    throw new SnapshotError(`${source} is not a valid tenant snapshot:\n${problems.join("\n")}`);
  }
  const snapshot = result.data;
  const problems = crossCheck(snapshot);
  if (problems.length > 0) {
    throw new SnapshotError(`${source} is not a valid tenant snapshot:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return snapshot;
}

export async function loadSnapshot(path: string): Promise<TenantSnapshot> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new SnapshotError(`Cannot read tenant snapshot ${path}: ${(error as Error).message}`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError(`${path} is not JSON${jsonErrorPlace(text)}: ${(error as Error).message}`, { cause: error });
  }
  return parseSnapshot(data, path);
}

/**
 * " at line <l>, column <c>" (1-based) of the first syntax error in `text`, found by jsonc-parser (comments and trailing
 * commas refused, as JSON.parse refuses them): V8's own message gives no place for most errors ("Unexpected token
 * '[', ..."). Empty when jsonc-parser finds none.
 */
export function jsonErrorPlace(text: string): string {
  const errors: ParseError[] = [];
  parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  const first = errors[0];
  if (!first) return "";
  const before = text.slice(0, first.offset);
  return ` at line ${before.split("\n").length}, column ${before.length - before.lastIndexOf("\n")}`;
}

/** Relations the schema cannot express: every resource's subscription exists, children have a parent account. */
function crossCheck(snapshot: TenantSnapshot): string[] {
  const problems: string[] = [];
  const subs = new Set(snapshot.subscriptions.map((s) => s.subscriptionId.toLowerCase()));
  const ids = new Set<string>();
  snapshot.resources.forEach((r, i) => {
    const label = `resources[${i}] (${r.id})`;
    const sub = /^\/subscriptions\/([^/]+)/i.exec(r.id)?.[1]?.toLowerCase();
    if (sub && !subs.has(sub)) problems.push(`${label}.id: subscription ${sub} is not in "subscriptions"`);
    if (ids.has(r.id.toLowerCase())) problems.push(`${label}.id: duplicate resource id`);
    ids.add(r.id.toLowerCase());
  });
  snapshot.resources.forEach((r, i) => {
    const type = r.type.toLowerCase();
    if (type === "microsoft.batch/batchaccounts/pools" || type === "microsoft.batch/batchaccounts/certificates") {
      const parent = /^(.*\/batchaccounts\/[^/]+)\//i.exec(r.id)?.[1]?.toLowerCase();
      if (!parent || !ids.has(parent)) problems.push(`resources[${i}] (${r.id}).id: its Batch account is not in "resources"`);
    }
  });
  return problems;
}

function describePath(data: unknown, path: PropertyKey[]): string {
  // Name the entry by its id where it has one, so a user can find it in a large file.
  let label = "snapshot";
  let node: unknown = data;
  for (const key of path) {
    label += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
    node = node && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    if (typeof key === "number" && node && typeof node === "object") {
      const entry = node as Record<string, unknown>;
      const name = entry.id ?? entry.subscriptionId ?? entry.pathPattern;
      if (typeof name === "string") label += ` (${name})`;
    }
  }
  return label;
}

function isRegex(source: string): boolean {
  try {
    new RegExp(source, "i");
    return true;
  } catch {
    return false;
  }
}
