// Role assignments for the function's user-assigned identity inside the resource group.
// (Reader on the audit scope is in reader.bicep, at subscription scope.)

@description('Principal (object) id of the user-assigned managed identity.')
param principalId string

param storageAccountName string
param appInsightsName string
param communicationServiceName string

@allowed([
  'custom'
  'builtin'
])
param emailSenderRole string = 'custom'

@description('Used to give the custom role a tenant-unique name.')
param environmentName string

// --- Built-in role definition ids -------------------------------------------------------
// Blob: AzureWebJobsStorage (host keys, timer schedule status and singleton locks), the Flex
// Consumption deployment container, and the report container. The Functions docs and the
// Flex Consumption azd templates give the host identity Storage Blob Data Owner: the host
// creates containers and takes blob leases. Blob Data Contributor is not documented as enough.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
// Table: the app's ledger (entities read/write, creating the table if missing). The run lock is a
// blob lease, covered by Storage Blob Data Owner above.
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
// Queue: not assigned. Storage Queue Data Contributor (974c5e8b-45b9-4653-ba55-5f855dd0fb88) is
// needed only by queue/blob triggers and Durable Functions; this app has timer and HTTP triggers.
// Application Insights with local auth disabled accepts telemetry only from this role.
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
// Fallback for email (emailSenderRole = 'builtin'): grants every Microsoft.Communication
// operation on the resource, including ListKeys/RegenerateKey and delete.
var communicationEmailServiceOwnerRoleId = '09976791-48a7-449e-bb21-39d1a415f350' // Communication and Email Service Owner

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, storageBlobDataOwnerRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, storageTableDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisherRoleId)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// --- Sending email with Entra ID ---------------------------------------------------------
// Microsoft.Communication has no data actions: sending (POST /emails:send with an Entra token)
// is authorised by control-plane actions. Microsoft documents this minimum for Entra-authenticated
// sending (SMTP with an Entra application): CommunicationServices/Read, CommunicationServices/Write
// and EmailServices/write on the Communication Services resource.
// Compared with the alternatives:
//   Contributor (b24988ac-6180-42a0-ab88-20f7382dd24c) - everything on the resource, incl. keys.
//   Communication and Email Service Owner (09976791-...) - CommunicationServices/* and EmailServices/*,
//     so also the ListKeys action, which hands out the access key and defeats the keyless design,
//     plus RegenerateKey and Delete.
// The custom role below has only the three actions, is assignable only in this resource group,
// and is assigned on the Communication Services resource alone. It still allows updating that
// resource's properties (CommunicationServices/Write), which Microsoft lists as required.
var emailSenderActions = [
  'Microsoft.Communication/CommunicationServices/Read'
  'Microsoft.Communication/CommunicationServices/Write'
  'Microsoft.Communication/EmailServices/write'
]

resource emailSenderRoleDefinition 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (emailSenderRole == 'custom') {
  name: guid(resourceGroup().id, 'batch-cert-auditor-email-sender')
  properties: {
    roleName: 'Batch cert auditor email sender (${environmentName}, ${resourceGroup().name})'
    description: 'Send email through Azure Communication Services with Microsoft Entra ID. No keys, no delete.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: emailSenderActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

// Role definitions live at subscription level even when declared from a resource group deployment.
var emailRoleDefinitionId = subscriptionResourceId(
  'Microsoft.Authorization/roleDefinitions',
  emailSenderRole == 'custom' ? emailSenderRoleDefinition.name : communicationEmailServiceOwnerRoleId
)

resource emailSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, principalId, 'email-sender', emailSenderRole)
  scope: communicationService
  properties: {
    roleDefinitionId: emailRoleDefinitionId
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
