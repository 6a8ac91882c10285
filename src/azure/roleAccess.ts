// AccessReader over Resource Graph's `authorizationresources` table and Microsoft Graph: the owner-role assignments at
// the accounts' scopes and above, then who the principals are and, for groups without a mailbox, their members.
// One query over the audited subscriptions with authorizationScopeFilter AtScopeAboveAndBelow returns the assignments
// at the subscriptions and below (resource groups, resources) and above them (their management groups and the root
// scope `/`); the default, AtScopeAndBelow, would leave the management groups out, and a tenant-scope query returns
// only what the identity can read at the management groups themselves, which a Reader on subscriptions usually cannot
// (azure-rest-api-specs, Microsoft.ResourceGraph 2024-04-01 resourcegraph.json, QueryRequestOptions.authorizationScopeFilter:
// AtScopeAndBelow, AtScopeAndAbove, AtScopeExact, AtScopeAboveAndBelow). Each subscription's management-group chain
// orders them, nearest first. Never throws for a failed read: the directory says
// it is unavailable and why (a Graph 403 names the missing permissions), and owner resolution falls back.
import { lastSegment } from "../core/certificateReference.js";
import { AuditError, ensureError, isFatal } from "../core/errors.js";
import type { AccessDirectory, DirectoryPrincipal, OwnerRoleAssignment } from "../core/owners.js";
import type { AccessReader, AccountScope, ReadOptions } from "../core/ports.js";
import type { GraphDirectory } from "./graphDirectory.js";
import { ROLE_ASSIGNMENTS_QUERY, ROLE_DEFINITIONS_QUERY, SUBSCRIPTION_ANCESTORS_QUERY } from "./queries.js";
import type { ResourceGraphInventory } from "./resourceGraphInventory.js";

type Row = Record<string, unknown>;

export interface RoleAccessOptions {
  /** Transitive members read per group that holds an owner role (OWNER_GROUP_MAX_MEMBERS). */
  groupMaxMembers: number;
  log?: (message: string) => void;
}

export class RoleAccessReader implements AccessReader {
  constructor(
    private readonly resourceGraph: Pick<ResourceGraphInventory, "queryRows">,
    private readonly graph: Pick<GraphDirectory, "principals" | "groupMembers">,
    private readonly options: RoleAccessOptions,
  ) {}

  async readAccess(accounts: readonly AccountScope[], roleNames: readonly string[], options: ReadOptions = {}): Promise<AccessDirectory> {
    const empty = { assignments: [], principals: new Map(), managementGroups: new Map() };
    let assignments: OwnerRoleAssignment[];
    let managementGroups: Map<string, { name: string; displayName?: string }[]>;
    try {
      ({ assignments, managementGroups } = await this.readAssignments(accounts, roleNames, options));
    } catch (error) {
      if (isFatal(error)) throw error;
      return { ...empty, unavailable: `role assignments could not be read from Resource Graph: ${ensureError(error).message}` };
    }
    if (assignments.length === 0) return { ...empty, assignments, managementGroups };
    try {
      const principals = await this.readPrincipals(assignments, options);
      return { assignments, principals, managementGroups };
    } catch (error) {
      if (isFatal(error)) throw error;
      const message = ensureError(error).message;
      this.options.log?.(`owners from role assignments not used: ${message}`);
      return { ...empty, unavailable: message };
    }
  }

  private async readAssignments(accounts: readonly AccountScope[], roleNames: readonly string[], options: ReadOptions) {
    const wanted = new Set(roleNames.map((r) => r.trim().toLowerCase()));
    // Built-in definitions live at the tenant; custom ones at their subscriptions: one tenant-scope query sees both.
    const definitions = await this.resourceGraph.queryRows(ROLE_DEFINITIONS_QUERY, "role definition", undefined, options);
    const roleByGuid = new Map<string, string>();
    for (const d of definitions) {
      const roleName = typeof d.roleName === "string" ? d.roleName : undefined;
      if (roleName && wanted.has(roleName.toLowerCase())) roleByGuid.set(lastSegment(String(d.id)).toLowerCase(), roleName);
    }
    if (roleByGuid.size === 0) return { assignments: [], managementGroups: new Map<string, { name: string; displayName?: string }[]>() };

    const subscriptions = [...new Set(accounts.map((a) => a.subscriptionId.toLowerCase()))];
    const inScope = await this.resourceGraph.queryRows(ROLE_ASSIGNMENTS_QUERY, "role assignment", subscriptions, { ...options, authorizationScopeFilter: "AtScopeAboveAndBelow" });
    const ancestors = await this.resourceGraph.queryRows(SUBSCRIPTION_ANCESTORS_QUERY, "management group chain", subscriptions, options);
    const managementGroups = new Map<string, { name: string; displayName?: string }[]>();
    for (const row of ancestors) {
      const chain = Array.isArray(row.managementGroups) ? (row.managementGroups as unknown[]) : [];
      managementGroups.set(
        String(row.subscriptionId).toLowerCase(),
        chain
          .filter((g): g is Row => typeof g === "object" && g !== null && typeof (g as Row).name === "string")
          .map((g) => ({ name: String(g.name), ...(typeof g.displayName === "string" ? { displayName: g.displayName } : {}) })),
      );
    }

    const assignments: OwnerRoleAssignment[] = [];
    const seen = new Set<string>();
    // Subscriptions queried in batches each get the assignments above them: the same one may come more than once.
    for (const row of inScope) {
      const roleName = roleByGuid.get(lastSegment(String(row.roleDefinitionId ?? "")).toLowerCase());
      const id = String(row.id).toLowerCase();
      if (!roleName || seen.has(id) || typeof row.principalId !== "string" || typeof row.scope !== "string") continue;
      seen.add(id);
      assignments.push({ scope: row.scope, roleName, principalId: row.principalId, principalType: typeof row.principalType === "string" ? row.principalType : "Unknown" });
    }
    return { assignments, managementGroups };
  }

  private async readPrincipals(assignments: readonly OwnerRoleAssignment[], options: ReadOptions): Promise<Map<string, DirectoryPrincipal>> {
    const principals = new Map<string, DirectoryPrincipal>();
    const refs = assignments.map((a) => ({ id: a.principalId, principalType: a.principalType }));
    for (const p of await this.graph.principals(refs, options.signal)) principals.set(p.id.toLowerCase(), p);
    const max = this.options.groupMaxMembers;
    for (const principal of [...principals.values()]) {
      // A mail-enabled group is mailed at its own address; only other groups need their members.
      if (principal.kind !== "group" || (principal.mailEnabled === true && principal.mail)) continue;
      let read: { members: DirectoryPrincipal[]; more: boolean };
      try {
        read = await this.graph.groupMembers(principal.id, max, options.signal);
      } catch (error) {
        // A stopped run ends the Graph reads, and so does a member answered stripped (no 403: User.Read.All is
        // missing for every user). One unreadable group only loses that group, a 403 on its members too: the group
        // itself was just read, so GroupMember.Read.All is there, and the group's membership is hidden
        // (Member.Read.Hidden; Learn, "List group transitive members").
        if (isFatal(error) || (error instanceof AuditError && (error.code === "RUN.BUDGET_SPENT" || (error.code === "OWNERS.GRAPH_FORBIDDEN" && error.statusCode !== 403)))) throw error;
        principals.set(principal.id.toLowerCase(), { ...principal, members: [], membersNote: `its members could not be read: ${ensureError(error).message}` });
        continue;
      }
      const { members, more } = read;
      for (const m of members) if (!principals.has(m.id.toLowerCase())) principals.set(m.id.toLowerCase(), m);
      principals.set(principal.id.toLowerCase(), {
        ...principal,
        members: members.map((m) => m.id),
        ...(more ? { membersNote: `only its first ${max} members were read (OWNER_GROUP_MAX_MEMBERS)` } : {}),
      });
    }
    return principals;
  }
}
