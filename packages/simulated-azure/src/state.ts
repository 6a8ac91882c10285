// The snapshot indexed for serving: Batch resources by account, and the Resource Graph tables.
import type { SnapshotResource, TenantSnapshot } from "./snapshot.js";

export type TableRow = Record<string, unknown>;

const POOL = "microsoft.batch/batchaccounts/pools";
const CERTIFICATE = "microsoft.batch/batchaccounts/certificates";
const ACCOUNT = "microsoft.batch/batchaccounts";
const RESOURCE_GROUP = "microsoft.resources/resourcegroups";
/** Batch's 2025-06-01 contract (azure-rest-api-specs, Microsoft.Batch stable 2025-06-01) dropped these from pools. */
export const POOL_CERTIFICATES_REMOVED_IN = "2025-06-01";
/**
 * Pool properties by the api-version whose contract no longer has them: `deploymentConfiguration.cloudServiceConfiguration`
 * is absent from DeploymentConfiguration from 2024-07-01 (specification/batch/resource-manager/Microsoft.Batch/stable/
 * 2024-07-01/BatchManagement.json; present at 2024-02-01); `certificates`, `applicationLicenses` and the node
 * communication modes are `@removed(Versions.v2025_06_01)` (specification/batch/resource-manager/Microsoft.Batch/
 * Batch/models.tsp). ARM serialises a resource in the contract of the api-version it is read at.
 */
const CLOUD_SERVICE_REMOVED_IN = "2024-07-01";
const REMOVED_IN_2025_06_01 = ["certificates", "applicationLicenses", "targetNodeCommunicationMode", "currentNodeCommunicationMode"];

/** A pool's `properties` as the contract of `apiVersion` has them (a shallow copy where something is dropped). */
export function poolPropertiesAt(properties: Record<string, unknown>, apiVersion: string | undefined): Record<string, unknown> {
  if (apiVersion === undefined || apiVersion < CLOUD_SERVICE_REMOVED_IN) return properties;
  const out: Record<string, unknown> = { ...properties };
  const deployment = out.deploymentConfiguration;
  if (deployment && typeof deployment === "object" && "cloudServiceConfiguration" in deployment) {
    const { cloudServiceConfiguration: _dropped, ...rest } = deployment as Record<string, unknown>;
    out.deploymentConfiguration = rest;
  }
  if (apiVersion >= POOL_CERTIFICATES_REMOVED_IN) for (const key of REMOVED_IN_2025_06_01) delete out[key];
  return out;
}

export class SimulatorState {
  readonly accounts = new Map<string, SnapshotResource>();
  readonly accountsBySubscription = new Map<string, SnapshotResource[]>();
  readonly certificatesByAccount = new Map<string, SnapshotResource[]>();
  readonly poolsByAccount = new Map<string, SnapshotResource[]>();
  readonly subscriptionIds: Set<string>;
  private tableCache: Record<string, TableRow[]> | undefined;

  constructor(readonly snapshot: TenantSnapshot) {
    this.subscriptionIds = new Set(snapshot.subscriptions.map((s) => s.subscriptionId.toLowerCase()));
    for (const r of snapshot.resources) {
      const type = r.type.toLowerCase();
      if (type === ACCOUNT) {
        this.accounts.set(r.id.toLowerCase(), r);
        push(this.accountsBySubscription, subscriptionOf(r.id), r);
      } else if (type === CERTIFICATE) push(this.certificatesByAccount, parentAccount(r.id), r);
      else if (type === POOL) push(this.poolsByAccount, parentAccount(r.id), r);
    }
  }

  /**
   * Role definitions and assignments as `authorizationresources` rows: ARM's objects with Resource Graph's columns
   * (type lower-cased, as Resource Graph gives it; subscriptionId and resourceGroup from the id, empty at a management
   * group or for a built-in definition).
   */
  private authorizationRows(): TableRow[] {
    const tenantId = this.snapshot.tenantId;
    const row = (r: { id: string; name: string; type: string; properties: Record<string, unknown> }): TableRow => {
      const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?/i.exec(r.id);
      return {
        id: r.id,
        name: r.name,
        type: r.type.toLowerCase(),
        tenantId,
        kind: "",
        location: "",
        resourceGroup: m?.[2] ?? "",
        subscriptionId: m?.[1] ?? "",
        managedBy: "",
        sku: null,
        plan: null,
        properties: r.properties,
        tags: null,
        identity: null,
        zones: null,
        extendedLocation: null,
      };
    };
    return [...(this.snapshot.roleDefinitions ?? []).map(row), ...(this.snapshot.roleAssignments ?? []).map(row)];
  }

  /** Resource Graph's view of the tenant: `resources`, `batchresources` (pools), `resourcecontainers` and `authorizationresources`. */
  tables(): Record<string, TableRow[]> {
    if (this.tableCache) return this.tableCache;
    const tenantId = this.snapshot.tenantId;
    const resources: TableRow[] = [];
    const batchresources: TableRow[] = [];
    const resourcecontainers: TableRow[] = this.snapshot.subscriptions.map((s) => ({
      id: `/subscriptions/${s.subscriptionId}`,
      name: s.displayName,
      type: "microsoft.resources/subscriptions",
      tenantId,
      kind: "",
      location: "",
      resourceGroup: "",
      subscriptionId: s.subscriptionId,
      managedBy: "",
      sku: null,
      plan: null,
      // The snapshot lists management groups root first; Resource Graph's managementGroupAncestorsChain runs from the
      // nearest parent up to the tenant root group.
      properties: { state: s.state ?? "Enabled", managementGroupAncestorsChain: [...(s.managementGroups ?? [])].reverse().map((name) => ({ name })) },
      tags: s.tags ?? {},
      identity: null,
      zones: null,
      extendedLocation: null,
    }));
    for (const r of this.snapshot.resources) {
      const type = r.type.toLowerCase();
      // Resource Graph does not index account certificates: they are only visible through the Batch API.
      if (type === CERTIFICATE) continue;
      const row = toRow(r, tenantId);
      if (type === POOL) batchresources.push(this.asPoolContract(row));
      else if (type === RESOURCE_GROUP) resourcecontainers.push({ ...row, type: "microsoft.resources/subscriptions/resourcegroups" });
      else resources.push(row);
    }
    this.tableCache = { resources, batchresources, resourcecontainers, authorizationresources: this.authorizationRows() };
    return this.tableCache;
  }

  /** A pool row as Resource Graph would serve it at the snapshot's `resourceGraph.batchPoolApiVersion`. */
  private asPoolContract(row: TableRow): TableRow {
    const version = this.snapshot.resourceGraph?.batchPoolApiVersion;
    const properties = poolPropertiesAt(row.properties as Record<string, unknown>, version);
    return properties === row.properties ? row : { ...row, properties };
  }

  managementGroupsOf(subscriptionId: string): string[] {
    return this.snapshot.subscriptions.find((s) => s.subscriptionId.toLowerCase() === subscriptionId.toLowerCase())?.managementGroups ?? [];
  }
}

function toRow(r: SnapshotResource, tenantId: string): TableRow {
  const m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)/i.exec(r.id);
  return {
    id: r.id,
    name: r.name,
    type: r.type.toLowerCase(),
    tenantId,
    kind: r.kind ?? "",
    location: r.location ?? "",
    // Resource Graph reports resource group names in lower case.
    resourceGroup: (m?.[2] ?? "").toLowerCase(),
    subscriptionId: m?.[1] ?? "",
    managedBy: "",
    sku: null,
    plan: null,
    properties: r.properties ?? {},
    tags: r.tags ?? {},
    identity: r.identity ?? null,
    zones: null,
    extendedLocation: null,
  };
}

export function subscriptionOf(id: string): string {
  return (/^\/subscriptions\/([^/]+)/i.exec(id)?.[1] ?? "").toLowerCase();
}

export function parentAccount(id: string): string {
  return (/^(.*\/batchaccounts\/[^/]+)\//i.exec(id)?.[1] ?? "").toLowerCase();
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
