// Reader for the function's identity on one subscription of the audit scope.
// Reader covers what the audit needs: Azure Resource Graph queries, Batch accounts, their
// certificates and pools (Microsoft.Batch/*/read), and the tags of subscriptions and resource groups.
// For a management group, run the command in docs/deploy.md (a subscription deployment cannot
// assign there):
//   az role assignment create --assignee-object-id <AZURE_MANAGED_IDENTITY_PRINCIPAL_ID> \
//     --assignee-principal-type ServicePrincipal --role Reader \
//     --scope /providers/Microsoft.Management/managementGroups/<management-group-name>
targetScope = 'subscription'

@description('Principal (object) id of the user-assigned managed identity.')
param principalId string

var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7' // Reader

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, readerRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
