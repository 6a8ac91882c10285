// The audit scope must match something: a scope that names no readable subscription (a typo in a management group,
// subscription ids the identity cannot see, an identity with no Reader anywhere) is an error, never a clean tenant.
import { AuditError } from "./errors.js";
import type { AuditScope, TenantInventory } from "./ports.js";

export function assertScopeMatched(scope: AuditScope, inventory: TenantInventory): void {
  // A failed query is reported as incomplete coverage with its reason; only a clean answer of "nothing" is refused.
  if (inventory.subscriptions.length > 0 || inventory.problems.length > 0) return;
  const named = [
    ...(scope.subscriptions.length > 0 ? [`subscriptions ${scope.subscriptions.join(", ")} (AUDIT_SUBSCRIPTIONS / --subscriptions)`] : []),
    ...(scope.managementGroups.length > 0 ? [`management groups ${scope.managementGroups.join(", ")} (AUDIT_MANAGEMENT_GROUPS / --management-groups)`] : []),
  ];
  const what = named.length > 0 ? `The audit scope, ${named.join(" and ")}, matches no subscription the identity can read` : "The identity can read no subscription in the tenant";
  throw new AuditError(
    "INVENTORY.SCOPE_EMPTY",
    `${what}: nothing was audited. Check the ids and names, and that the identity has Reader on them.`,
  );
}
