// The Function App: Flex Consumption, Node 22, user-assigned identity, identity-based storage.
// Every setting the app reads is set here, under the names of local.settings.example.json.

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Resource id of the Flex Consumption (FC1) plan.')
param planId string

param storageAccountName string
param deploymentStorageContainerName string

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

param appInsightsName string

@description('Memory of each instance. The daily run is sized for 2 GB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound of instances (Flex Consumption minimum is 40); the app does its own pacing.')
param maximumInstanceCount int = 40

// Application settings, one parameter each (see infra/main.bicep for descriptions).
param auditSchedule string
param sendSchedule string
param auditSubscriptions string
param auditManagementGroups string
param batchConcurrency int
param maxRetryWaitSeconds int
param maxPagesPerScope int
param runBudgetMinutes int
param heapGrowingPercent int
param ownerTagKeys string
param fallbackContacts string
param ownerSources string
param ownerRoleNames string
param ownerGroupMaxMembers int
param allowedRecipientDomains string
param allowAnyRecipientDomain bool = false
param migrationDeadline string
param migrationIdentityId string = ''
param rulesDisabled string = ''
param ruleDeadlines string = ''
param rulesFile string = ''
param migrationIdentityClientId string = ''
param migrationKeyVaultName string = ''
param reminderDays string
param overdueEveryDays int
param escalateAfterReminders int
param escalationContacts string
param snoozeTagKey string
param snoozeReasonTagKey string
param maxSnoozeDays int
param sendMode string = 'dry-run'
param redirectAddress string
param senderAddress string
param communicationServicesEndpoint string
param emailPerMinute int
param emailPerHour int
param emailStatusReadsPerMinute int
param emailStatusReadsPerHour int
param emailNotFoundGraceHours int
param undeliverableRetryDays int
param digestItemsInFull int
param adminSummaryTo string
param reportContainer string
param ledgerTable string

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// FUNCTIONS_WORKER_RUNTIME is not set: Flex Consumption takes the runtime from functionAppConfig.
// AzureWebJobsStorage (a connection string) is replaced by the identity-based AzureWebJobsStorage__* settings.
var appSettings = {
  // Host storage through the managed identity: no account key, no connection string.
  AzureWebJobsStorage__accountName: storageAccount.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId

  // Telemetry: the connection string locates the resource; ingestion is authenticated with Entra ID.
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

  // DefaultAzureCredential picks the user-assigned identity with this client id.
  AZURE_CLIENT_ID: identityClientId

  // Audit
  AUDIT_SCHEDULE: auditSchedule
  SEND_SCHEDULE: sendSchedule
  AUDIT_SUBSCRIPTIONS: auditSubscriptions
  AUDIT_MANAGEMENT_GROUPS: auditManagementGroups
  BATCH_CONCURRENCY: string(batchConcurrency)
  MAX_RETRY_WAIT_SECONDS: string(maxRetryWaitSeconds)
  MAX_PAGES_PER_SCOPE: string(maxPagesPerScope)
  RUN_BUDGET_MINUTES: string(runBudgetMinutes)
  HEAP_GROWING_PERCENT: string(heapGrowingPercent)
  OWNER_TAG_KEYS: ownerTagKeys
  FALLBACK_CONTACTS: fallbackContacts
  OWNER_SOURCES: ownerSources
  OWNER_ROLE_NAMES: ownerRoleNames
  OWNER_GROUP_MAX_MEMBERS: string(ownerGroupMaxMembers)
  ALLOWED_RECIPIENT_DOMAINS: allowedRecipientDomains
  ALLOW_ANY_RECIPIENT_DOMAIN: string(allowAnyRecipientDomain)
  MIGRATION_DEADLINE: migrationDeadline
  MIGRATION_IDENTITY_ID: migrationIdentityId
  MIGRATION_IDENTITY_CLIENT_ID: migrationIdentityClientId
  MIGRATION_KEY_VAULT_NAME: migrationKeyVaultName
  RULES_DISABLED: rulesDisabled
  RULE_DEADLINES: ruleDeadlines
  RULES_FILE: rulesFile
  REMINDER_DAYS: reminderDays
  OVERDUE_EVERY_DAYS: string(overdueEveryDays)
  ESCALATE_AFTER_REMINDERS: string(escalateAfterReminders)
  ESCALATION_CONTACTS: escalationContacts
  SNOOZE_TAG_KEY: snoozeTagKey
  SNOOZE_REASON_TAG_KEY: snoozeReasonTagKey
  MAX_SNOOZE_DAYS: string(maxSnoozeDays)

  // Email
  SEND_MODE: sendMode
  REDIRECT_ADDRESS: redirectAddress
  SENDER_ADDRESS: senderAddress
  COMMUNICATION_SERVICES_ENDPOINT: communicationServicesEndpoint
  COMMUNICATION_SERVICES_CONNECTION_STRING: '' // local development only; in Azure the identity is used
  EMAIL_PER_MINUTE: string(emailPerMinute)
  EMAIL_PER_HOUR: string(emailPerHour)
  EMAIL_STATUS_READS_PER_MINUTE: string(emailStatusReadsPerMinute)
  EMAIL_STATUS_READS_PER_HOUR: string(emailStatusReadsPerHour)
  EMAIL_NOT_FOUND_GRACE_HOURS: string(emailNotFoundGraceHours)
  UNDELIVERABLE_RETRY_DAYS: string(undeliverableRetryDays)
  DIGEST_ITEMS_IN_FULL: string(digestItemsInFull)
  ADMIN_SUMMARY_TO: adminSummaryTo

  // State
  REPORT_CONTAINER: reportContainer
  LEDGER_TABLE: ledgerTable
}

module site 'br/public:avm/res/web/site:0.15.1' = {
  name: 'site-${name}'
  params: {
    name: name
    kind: 'functionapp,linux'
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    serverFarmResourceId: planId
    httpsOnly: true
    managedIdentities: {
      systemAssigned: false
      userAssignedResourceIds: [
        identityId
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      alwaysOn: false
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    appSettingsKeyValuePairs: appSettings
  }
}

output name string = site.outputs.name
output resourceId string = site.outputs.resourceId
output defaultHostname string = site.outputs.defaultHostname
