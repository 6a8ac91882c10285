// Microsoft Graph application permissions for the function's identity, so owners can be read from role assignments:
// User.Read.All (users' mail, enabled state) and GroupMember.Read.All (members of groups that hold a role).
// Uses the Microsoft Graph Bicep extension, v1.0 resource types Microsoft.Graph/servicePrincipals (read with
// `existing`) and Microsoft.Graph/appRoleAssignedTo:
// https://learn.microsoft.com/graph/templates/reference/overview and .../reference/approleassignedto.
// The deployer needs AppRoleAssignment.ReadWrite.All and Application.Read.All in Entra ID (for example the
// Privileged Role Administrator role); without them, leave grantGraphPermissions false and run the command in
// docs/deploy.md.
extension microsoftGraphV1

@description('Object (principal) id of the function app identity.')
param principalId string

// Microsoft Graph's application id: the same in every tenant.
var graphAppId = '00000003-0000-0000-c000-000000000000'

// App role ids of the application permissions (https://learn.microsoft.com/graph/permissions-reference).
var graphAppRoles = [
  'df021288-bdef-4463-88db-98f22de89214' // User.Read.All
  '98830695-27a2-44f7-8c18-0c3ebc9698f6' // GroupMember.Read.All
]

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: graphAppId
}

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for appRoleId in graphAppRoles: {
    appRoleId: appRoleId
    principalId: principalId
    resourceId: graph.id
  }
]
