// Owners from who really has access: holders of OWNER_ROLE_NAMES at the account's scope and above, after tags.
import { describe, expect, it } from "vitest";
import { findingsNeedingRoles } from "../../../src/core/assignOwners.js";
import type { BatchAccountInfo, Finding } from "../../../src/core/model.js";
import { resolveOwners, tagNaming, type AccessDirectory, type DirectoryPrincipal, type OwnerLevels, type OwnerPolicy, type OwnerRoleAssignment } from "../../../src/core/owners.js";

const SUB = "2222";
const RG_ID = `/subscriptions/${SUB}/resourceGroups/rg-research`;
const ACCOUNT_ID = `${RG_ID}/providers/Microsoft.Batch/batchAccounts/research`;
const SUB_ID = `/subscriptions/${SUB}`;
const MG_ID = "/providers/Microsoft.Management/managementGroups/mg-science";

const policy = (over: Partial<OwnerPolicy> = {}): OwnerPolicy => ({
  ownerTagKeys: ["owner"],
  fallbackContacts: ["platform@contoso.com"],
  allowedRecipientDomains: ["contoso.com"],
  sources: ["tags", "roles"],
  roleNames: ["Owner", "Contributor"],
  ...over,
});

const user = (id: string, over: Partial<Extract<DirectoryPrincipal, { kind: "user" }>> = {}): DirectoryPrincipal => ({
  kind: "user",
  id,
  mail: `${id}@contoso.com`,
  userPrincipalName: `${id}@contoso.com`,
  accountEnabled: true,
  ...over,
});

const assign = (scope: string, principalId: string, roleName = "Owner", principalType = "User"): OwnerRoleAssignment => ({ scope, roleName, principalId, principalType });

function directory(assignments: OwnerRoleAssignment[], principals: DirectoryPrincipal[], over: Partial<AccessDirectory> = {}): AccessDirectory {
  return {
    assignments,
    principals: new Map(principals.map((p) => [p.id.toLowerCase(), p])),
    managementGroups: new Map([[SUB, [{ name: "mg-science", displayName: "Science" }]]]),
    ...over,
  };
}

const levels = (access: AccessDirectory, over: Partial<OwnerLevels> = {}): OwnerLevels => ({
  account: {},
  accountId: ACCOUNT_ID,
  accountName: "research",
  resourceGroup: {},
  resourceGroupId: RG_ID,
  resourceGroupName: "rg-research",
  subscription: {},
  subscriptionId: SUB,
  subscriptionName: "sub-research",
  access,
  ...over,
});

describe("owners from role assignments", () => {
  it("takes a usable principal at the account's scope over its resource group's, and that over its subscription's", () => {
    const people = [user("acct-owner"), user("rg-owner"), user("sub-owner"), user("mg-owner")];
    const all = [assign(MG_ID, "mg-owner"), assign(SUB_ID, "sub-owner"), assign(RG_ID, "rg-owner"), assign(ACCOUNT_ID, "acct-owner", "Contributor")];
    expect(resolveOwners(levels(directory(all, people)), policy()).owners).toEqual([
      { address: "acct-owner@contoso.com", source: "role Contributor on Batch account research" },
    ]);
    expect(resolveOwners(levels(directory(all.slice(0, 3), people)), policy()).owners).toEqual([
      { address: "rg-owner@contoso.com", source: "role Owner on resource group rg-research" },
    ]);
    expect(resolveOwners(levels(directory(all.slice(0, 2), people)), policy()).owners).toEqual([
      { address: "sub-owner@contoso.com", source: "role Owner on subscription sub-research" },
    ]);
    expect(resolveOwners(levels(directory(all.slice(0, 1), people)), policy()).owners).toEqual([
      { address: "mg-owner@contoso.com", source: "role Owner on management group Science" },
    ]);
  });

  it("matches scopes case-insensitively, as ARM ids are", () => {
    const r = resolveOwners(levels(directory([assign(RG_ID.toUpperCase(), "rg-owner")], [user("rg-owner")])), policy());
    expect(r.owners.map((o) => o.address)).toEqual(["rg-owner@contoso.com"]);
  });

  it("still prefers an owner tag anywhere in the chain over a role holder, with the default OWNER_SOURCES order", () => {
    const r = resolveOwners(levels(directory([assign(ACCOUNT_ID, "acct-owner")], [user("acct-owner")]), { subscription: { owner: "tagged@contoso.com" } }), policy());
    expect(r.owners).toEqual([{ address: "tagged@contoso.com", source: 'subscription tag "owner"', namedBy: tagNaming(SUB_ID, "owner", "tagged@contoso.com") }]);
  });

  it("takes role holders before tags when OWNER_SOURCES says roles,tags", () => {
    const r = resolveOwners(
      levels(directory([assign(SUB_ID, "sub-owner")], [user("sub-owner")]), { account: { owner: "tagged@contoso.com" } }),
      policy({ sources: ["roles", "tags"] }),
    );
    expect(r.owners.map((o) => o.address)).toEqual(["sub-owner@contoso.com"]);
  });

  it("ignores roles not named in OWNER_ROLE_NAMES and accepts a custom role that is", () => {
    const access = directory([assign(RG_ID, "reader", "Reader"), assign(SUB_ID, "batch-admin", "Batch Platform Admin")], [user("reader"), user("batch-admin")]);
    expect(resolveOwners(levels(access), policy()).owners.map((o) => o.address)).toEqual(["platform@contoso.com"]);
    const custom = resolveOwners(levels(access), policy({ roleNames: ["Batch Platform Admin"] }));
    expect(custom.owners).toEqual([{ address: "batch-admin@contoso.com", source: "role Batch Platform Admin on subscription sub-research" }]);
  });

  it("skips a service principal, a disabled user and an address outside the allowed domains with the reason shown, and goes on to the next scope", () => {
    const principals: DirectoryPrincipal[] = [
      { kind: "servicePrincipal", id: "deploy-sp", displayName: "deploy-pipeline", servicePrincipalType: "Application" },
      user("left-company", { accountEnabled: false }),
      user("outsider", { mail: "outsider@fabrikam.com" }),
      user("sub-owner"),
    ];
    const access = directory(
      [assign(ACCOUNT_ID, "deploy-sp", "Contributor", "ServicePrincipal"), assign(RG_ID, "left-company"), assign(RG_ID, "outsider"), assign(SUB_ID, "sub-owner")],
      principals,
    );
    const r = resolveOwners(levels(access), policy());
    expect(r.owners).toEqual([{ address: "sub-owner@contoso.com", source: "role Owner on subscription sub-research" }]);
    expect(r.problems).toEqual([
      "service principal deploy-pipeline holds Contributor on Batch account research but is not a person; skipped",
      "user left-company@contoso.com holds Owner on resource group rg-research but the account is disabled; skipped",
      "user outsider@contoso.com, who holds Owner on resource group rg-research: 'outsider@fabrikam.com' is outside ALLOWED_RECIPIENT_DOMAINS",
    ]);
  });

  it("skips a managed identity and a guest without mail, and says which they are", () => {
    const access = directory(
      [assign(SUB_ID, "mi", "Owner", "ServicePrincipal"), assign(SUB_ID, "guest")],
      [
        { kind: "servicePrincipal", id: "mi", displayName: "id-batch-prod", servicePrincipalType: "ManagedIdentity" },
        user("guest", { mail: undefined, userPrincipalName: "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", userType: "Guest" }),
      ],
    );
    const r = resolveOwners(levels(access), policy());
    expect(r.owners.map((o) => o.source)).toEqual(["fallback"]);
    expect(r.problems).toContain("managed identity id-batch-prod holds Owner on subscription sub-research but is not a person; skipped");
    expect(r.problems).toContain("user guest_fabrikam.com#EXT#@contoso.onmicrosoft.com holds Owner on subscription sub-research but is a guest without a mail address; skipped");
  });

  it("uses a user's userPrincipalName when it has no mail and the name is a routable address", () => {
    const r = resolveOwners(levels(directory([assign(SUB_ID, "upn")], [user("upn", { mail: undefined, userPrincipalName: "Upn.User@Contoso.com" })])), policy());
    expect(r.owners.map((o) => o.address)).toEqual(["Upn.User@contoso.com"]);
  });

  it("sends to a group's enabled members, naming the group, and skips its disabled members with the reason", () => {
    const access = directory(
      [assign(SUB_ID, "grp", "Owner", "Group")],
      [
        { kind: "group", id: "grp", displayName: "platform-admins", mailEnabled: false, members: ["ann", "bob", "nested", "bot"] },
        user("ann"),
        user("bob", { accountEnabled: false }),
        { kind: "group", id: "nested", displayName: "nested-team", members: [] },
        { kind: "servicePrincipal", id: "bot", displayName: "ci-bot" },
      ],
    );
    const r = resolveOwners(levels(access), policy());
    expect(r.owners).toEqual([{ address: "ann@contoso.com", source: "member of platform-admins, which holds Owner on subscription sub-research" }]);
    expect(r.problems).toEqual([
      "user bob@contoso.com is a member of platform-admins, which holds Owner on subscription sub-research, but the account is disabled; skipped",
      "service principal ci-bot is a member of platform-admins, which holds Owner on subscription sub-research, but is not a person; skipped",
    ]);
  });

  it("sends to a mail-enabled group's own address", () => {
    const access = directory([assign(RG_ID, "dl", "Owner", "Group")], [{ kind: "group", id: "dl", displayName: "research-team", mailEnabled: true, mail: "research@contoso.com", members: ["ann"] }, user("ann")]);
    expect(resolveOwners(levels(access), policy()).owners).toEqual([{ address: "research@contoso.com", source: "group research-team, which holds Owner on resource group rg-research" }]);
  });

  it("reports a group whose member list was capped", () => {
    const access = directory(
      [assign(SUB_ID, "grp", "Owner", "Group")],
      [{ kind: "group", id: "grp", displayName: "everyone", members: ["ann"], membersNote: "only its first 1 members were read (OWNER_GROUP_MAX_MEMBERS)" }, user("ann")],
    );
    const r = resolveOwners(levels(access), policy());
    expect(r.owners.map((o) => o.address)).toEqual(["ann@contoso.com"]);
    expect(r.problems).toEqual(["group everyone, which holds Owner on subscription sub-research: only its first 1 members were read (OWNER_GROUP_MAX_MEMBERS)"]);
  });

  it("gives the digest to the fallback contacts with OWNER_SOURCES=tags, whoever holds roles", () => {
    const r = resolveOwners(levels(directory([assign(ACCOUNT_ID, "acct-owner")], [user("acct-owner")])), policy({ sources: ["tags"] }));
    expect(r.owners).toEqual([{ address: "platform@contoso.com", source: "fallback" }]);
  });

  it("falls back and says why when role holders could not be read", () => {
    const access = directory([], [], { unavailable: "Microsoft Graph answered 403 Authorization_RequestDenied: the identity lacks User.Read.All" });
    const r = resolveOwners(levels(access), policy());
    expect(r.owners).toEqual([{ address: "platform@contoso.com", source: "fallback" }]);
    expect(r.problems).toEqual([
      `owners from role assignments were not used for ${ACCOUNT_ID}: Microsoft Graph answered 403 Authorization_RequestDenied: the identity lacks User.Read.All`,
    ]);
  });

  it("reports a role holder that is not in the directory any more", () => {
    const r = resolveOwners(levels(directory([assign(SUB_ID, "gone")], [])), policy());
    expect(r.problems).toEqual(["User gone holds Owner on subscription sub-research but was not found in Microsoft Entra ID (deleted?); skipped"]);
  });
});

describe("findingsNeedingRoles", () => {
  const finding = (name: string): Finding => ({
    id: name,
    kind: "account-certificate",
    severity: "critical",
    resourceId: `${RG_ID}/providers/Microsoft.Batch/batchAccounts/${name}/certificates/x`,
    subscriptionId: SUB,
    resourceGroup: "rg-research",
    accountName: name,
    accountId: `${RG_ID}/providers/Microsoft.Batch/batchAccounts/${name}`,
    detail: "",
  });
  const inventory: { accounts: BatchAccountInfo[]; resourceGroups: []; subscriptions: [] } = {
    accounts: [
      { id: finding("tagged").accountId, name: "tagged", subscriptionId: SUB, resourceGroup: "rg-research", location: "x", tags: { owner: "t@contoso.com" } },
      { id: finding("untagged").accountId, name: "untagged", subscriptionId: SUB, resourceGroup: "rg-research", location: "x", tags: {} },
    ],
    resourceGroups: [],
    subscriptions: [],
  };

  it("asks for role holders only of accounts no owner tag names, and of none with OWNER_SOURCES=tags", () => {
    const findings = [finding("tagged"), finding("untagged")];
    expect(findingsNeedingRoles(findings, inventory, policy()).map((f) => f.accountName)).toEqual(["untagged"]);
    expect(findingsNeedingRoles(findings, inventory, policy({ sources: ["roles", "tags"] }))).toHaveLength(2);
    expect(findingsNeedingRoles(findings, inventory, policy({ sources: ["tags"] }))).toEqual([]);
  });
});
