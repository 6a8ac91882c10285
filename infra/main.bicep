// batch-cert-auditor: Azure Functions (Flex Consumption, Node 22) + identity-only storage,
// Application Insights / Log Analytics and Azure Communication Services Email.
// Deployed by `azd up` at subscription scope: it creates the resource group and assigns
// Reader on the audit scope, which lives outside that resource group.
targetScope = 'subscription'

// ---------------------------------------------------------------------------
// azd parameters
// ---------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; feeds the resource token and the resource group name.')
param environmentName string

@minLength(1)
@description('Region of the resource group and the Function App. Flex Consumption runs in a subset of regions: az functionapp list-flexconsumption-locations -o table')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Optional name of the resource group. Default: rg-<environmentName>.')
param resourceGroupName string = ''

// ---------------------------------------------------------------------------
// Audit scope and Reader
// ---------------------------------------------------------------------------

@description('AUDIT_MANAGEMENT_GROUPS: comma-separated management group names. Reader there is granted by hand (see docs/deploy.md).')
param auditManagementGroups string = ''

@description('AUDIT_SUBSCRIPTIONS: comma-separated subscription ids. Empty (with no management groups): every subscription the identity can read.')
param auditSubscriptions string = ''

@description('Assign Reader to the function identity from this deployment. Turn off when Reader is granted elsewhere (for example at a management group).')
param assignAuditReader bool = true

@description('Comma-separated subscription ids that get the Reader assignment. Empty: the subscription of the deployment. The deployer needs Owner or User Access Administrator on each.')
param readerSubscriptionIds string = ''

// ---------------------------------------------------------------------------
// Application settings (names match local.settings.example.json)
// ---------------------------------------------------------------------------

@description('AUDIT_SCHEDULE: NCRONTAB with seconds, UTC.')
param auditSchedule string = '0 0 7 * * *'

@description('SEND_SCHEDULE: NCRONTAB with seconds, UTC: the sending timer that drains the outbox within the email limits. Keep it off the audit\'s minute.')
param sendSchedule string = '0 30 * * * *'

@description('BATCH_CONCURRENCY: Batch management calls in flight over all subscriptions; each subscription is paced to ARM\'s read bucket (250, +25/s) on its own.')
@minValue(1)
@maxValue(512)
param batchConcurrency int = 128

@description('MAX_RETRY_WAIT_SECONDS: the longest server-set wait (Retry-After, quota reset) a run waits out.')
@minValue(1)
@maxValue(600)
param maxRetryWaitSeconds int = 60

@description('MAX_PAGES_PER_SCOPE: pages one list or query may have before its scope is failed.')
@minValue(1)
@maxValue(100000)
param maxPagesPerScope int = 1000

@description('RUN_BUDGET_MINUTES: time a run may take (1-26): below the 30-minute functionTimeout in host.json, with room for the send in flight and the report.')
@minValue(1)
@maxValue(26)
param runBudgetMinutes int = 25

@description('HEAP_GROWING_PERCENT: how far the heap may grow past what survived V8\'s last full collection, in percent (0-300), where V8 would let it grow fourfold (a 4096 MB instance); 0: V8\'s own sizing. Not a limit.')
@minValue(0)
@maxValue(300)
param heapGrowingPercent int = 50

param ownerTagKeys string = 'owner,OwnerContact'

@description('FALLBACK_CONTACTS: addresses told about findings nobody owns.')
param fallbackContacts string = ''

@description('Grant the identity the Microsoft Graph application permissions User.Read.All and GroupMember.Read.All here (needs a deployer who may grant app roles, e.g. Privileged Role Administrator). false: an administrator runs the command in docs/deploy.md.')
param grantGraphPermissions bool = false

@description('OWNER_SOURCES: owner sources in the order tried (tags, roles). Empty: tags,roles when grantGraphPermissions is true, else tags (role holders need the Graph permissions).')
param ownerSources string = ''

@description('OWNER_ROLE_NAMES: role definition names whose holders are owners (comma-separated; custom roles allowed).')
param ownerRoleNames string = 'Owner,Contributor'

@description('OWNER_GROUP_MAX_MEMBERS: members read per group that holds an owner role.')
@minValue(1)
@maxValue(1000)
param ownerGroupMaxMembers int = 20

@description('ALLOWED_RECIPIENT_DOMAINS: when set, only these domains (and subdomains) are emailed.')
param allowedRecipientDomains string = ''

@description('ALLOW_ANY_RECIPIENT_DOMAIN: true lets SEND_MODE=live run with ALLOWED_RECIPIENT_DOMAINS empty (any domain is mailed).')
param allowAnyRecipientDomain bool = false

@description('MIGRATION_DEADLINE: YYYY-MM-DD; empty means the retirement date.')
param migrationDeadline string = ''

@description('RULES_DISABLED: retirement rule ids switched off (comma-separated); empty runs every rule.')
param rulesDisabled string = ''

@description('RULE_DEADLINES: <rule id>=YYYY-MM-DD overrides (comma-separated), e.g. an internal deadline earlier than Azure\'s.')
param ruleDeadlines string = ''

@description('RULES_FILE: path of a JSON file of custom rules (README "Custom rules"); empty: none.')
param rulesFile string = ''

@description('MIGRATION_IDENTITY_ID: user-assigned identity the generated replacement pools get; empty leaves a placeholder.')
param migrationIdentityId string = ''

@description('MIGRATION_IDENTITY_CLIENT_ID: that identity\'s client id; empty leaves a placeholder.')
param migrationIdentityClientId string = ''

@description('MIGRATION_KEY_VAULT_NAME: Key Vault the replacement pools read certificates from; empty leaves a placeholder.')
param migrationKeyVaultName string = ''

param reminderDays string = '90,60,30,14,7,3,1,0'

param overdueEveryDays int = 7

param escalateAfterReminders int = 4

param escalationContacts string = ''

param snoozeTagKey string = 'batch-cert-audit-snooze'

param snoozeReasonTagKey string = 'batch-cert-audit-snooze-reason'

param maxSnoozeDays int = 90

@description('SEND_MODE: starts as dry-run (nothing is sent). Switch to redirect or live after reading the first report.')
@allowed([
  'dry-run'
  'redirect'
  'live'
])
param sendMode string = 'dry-run'

@description('Flex Consumption instance memory (MB). 2048 holds the daily job up to about 100,000 Batch accounts (475-556 MB peak measured there a week after its first day, docs/benchmarks.md); 4096 gives a larger tenant room; Node sizes its heap from it (at 4096 the app also paces it: HEAP_GROWING_PERCENT).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('REDIRECT_ADDRESS: where every email goes when SEND_MODE is redirect.')
param redirectAddress string = ''

@description('EMAIL_PER_MINUTE; 0 = the default limit of the domain in use (Azure-managed 5, custom 30).')
param emailPerMinute int = 0

@description('EMAIL_PER_HOUR; 0 = the default limit of the domain in use (Azure-managed 10, custom 100).')
param emailPerHour int = 0

// Get Email Status limits (Learn, "Service limits for Azure Communication Services", email): Azure-managed domain
// 10 per minute and 20 per hour, custom domain 60 and 200. The app reads status only to recover after a crash.
@description('EMAIL_STATUS_READS_PER_MINUTE; 0 = the limit of the domain in use (Azure-managed 10, custom 60).')
param emailStatusReadsPerMinute int = 0

@description('EMAIL_STATUS_READS_PER_HOUR; 0 = the limit of the domain in use (Azure-managed 20, custom 200).')
param emailStatusReadsPerHour int = 0

@description('EMAIL_NOT_FOUND_GRACE_HOURS: how long a pending send the status API does not find is looked up again before it is planned again.')
param emailNotFoundGraceHours int = 24

@description('UNDELIVERABLE_RETRY_DAYS: after this many days an address whose mail bounced is tried again.')
param undeliverableRetryDays int = 30

@description('DIGEST_ITEMS_IN_FULL: items a digest shows in full (most urgent first); the rest are summarised per account and attached as CSV, keeping the mail under Gmail\'s 102 KB clip.')
@minValue(1)
@maxValue(500)
param digestItemsInFull int = 20

@description('ADMIN_SUMMARY_TO: addresses that get the daily summary.')
param adminSummaryTo string = ''

@description('REPORT_CONTAINER: blob container for reports.')
param reportContainer string = 'batch-cert-audit'

@description('LEDGER_TABLE: table for the reminder ledger and the run lock.')
param ledgerTable string = 'batchcertaudit'

// ---------------------------------------------------------------------------
// Email (Azure Communication Services)
// ---------------------------------------------------------------------------

@description('Data location of the Communication Services and Email resources (must be the same for both).')
param emailDataLocation string = 'United States'

// Sending limits: an Azure-managed domain (<guid>.azurecomm.net, the default here) allows very few
// emails: 5 per minute and 10 per hour per subscription. A custom verified domain starts at
// 30 per minute and 100 per hour. Both can be raised with an Azure support request once the
// sender has a reputation. For more than a handful of owners, use a custom domain.
@description('Custom sending domain (e.g. notify.contoso.com). Empty: only the Azure-managed domain is used.')
param customEmailDomain string = ''

@description('Set to true (and provision again) once the DNS records of customEmailDomain are verified; only a verified domain can be linked.')
param customEmailDomainVerified bool = false

@description('Display name of the DoNotReply sender.')
param senderDisplayName string = 'Batch certificate auditor'

// ---------------------------------------------------------------------------
// Identity and monitoring
// ---------------------------------------------------------------------------

@description('Role that lets the identity send email: custom = least-privilege custom role defined in app/rbac.bicep; builtin = Communication and Email Service Owner (fallback).')
@allowed([
  'custom'
  'builtin'
])
param emailSenderRole string = 'custom'

@description('Application Insights accepts only Entra ID-authenticated telemetry (no instrumentation key ingestion).')
param appInsightsDisableLocalAuth bool = true

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  app: 'batch-cert-auditor'
}
var functionAppName = 'func-bca-${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
var effectiveOwnerSources = empty(ownerSources) ? (grantGraphPermissions ? 'tags,roles' : 'tags') : ownerSources
var useCustomEmailDomain = !empty(customEmailDomain) && customEmailDomainVerified
var readerSubscriptionList = empty(readerSubscriptionIds)
  ? [subscription().subscriptionId]
  : filter(map(split(readerSubscriptionIds, ','), id => trim(id)), id => !empty(id))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------
// Identity: one user-assigned identity for storage, monitoring, Resource Graph / Batch and email
// ---------------------------------------------------------------------------

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-bca-${resourceToken}'
    location: location
    tags: tags
  }
}

// ---------------------------------------------------------------------------
// Storage: host storage, deployment package, reports (Blob) and ledger / run lock (Table).
// Keys are switched off; everything signs in with the managed identity.
// ---------------------------------------------------------------------------

module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    skuName: 'Standard_LRS'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      containers: [
        { name: deploymentStorageContainerName }
        { name: reportContainer }
      ]
    }
    tableServices: {
      tables: [
        { name: ledgerTable }
      ]
    }
  }
}

// ---------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.11.1' = {
  name: 'loganalytics'
  scope: rg
  params: {
    name: 'log-${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module appInsights 'br/public:avm/res/insights/component:0.6.0' = {
  name: 'appinsights'
  scope: rg
  params: {
    name: 'appi-${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: appInsightsDisableLocalAuth
    retentionInDays: 30
  }
}

// ---------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------

module email './app/email.bicep' = {
  name: 'email'
  scope: rg
  params: {
    communicationServiceName: 'acs-${resourceToken}'
    emailServiceName: 'ecs-${resourceToken}'
    dataLocation: emailDataLocation
    customDomainName: customEmailDomain
    linkCustomDomain: useCustomEmailDomain
    senderDisplayName: senderDisplayName
    tags: tags
  }
}

// ---------------------------------------------------------------------------
// Hosting: Flex Consumption plan and the Function App
// ---------------------------------------------------------------------------

module plan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'plan'
  scope: rg
  params: {
    name: 'plan-${resourceToken}'
    location: location
    tags: tags
    reserved: true
    sku: {
      name: 'FC1'
      tier: 'FlexConsumption'
    }
  }
}

module api './app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    instanceMemoryMB: instanceMemoryMB
    name: functionAppName
    location: location
    tags: tags
    planId: plan.outputs.resourceId
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    appInsightsName: appInsights.outputs.name
    auditSchedule: auditSchedule
    sendSchedule: sendSchedule
    auditSubscriptions: auditSubscriptions
    auditManagementGroups: auditManagementGroups
    batchConcurrency: batchConcurrency
    maxRetryWaitSeconds: maxRetryWaitSeconds
    maxPagesPerScope: maxPagesPerScope
    runBudgetMinutes: runBudgetMinutes
    heapGrowingPercent: heapGrowingPercent
    ownerTagKeys: ownerTagKeys
    fallbackContacts: fallbackContacts
    ownerSources: effectiveOwnerSources
    ownerRoleNames: ownerRoleNames
    ownerGroupMaxMembers: ownerGroupMaxMembers
    allowedRecipientDomains: allowedRecipientDomains
    allowAnyRecipientDomain: allowAnyRecipientDomain
    migrationDeadline: migrationDeadline
    migrationIdentityId: migrationIdentityId
    rulesDisabled: rulesDisabled
    ruleDeadlines: ruleDeadlines
    rulesFile: rulesFile
    migrationIdentityClientId: migrationIdentityClientId
    migrationKeyVaultName: migrationKeyVaultName
    reminderDays: reminderDays
    overdueEveryDays: overdueEveryDays
    escalateAfterReminders: escalateAfterReminders
    escalationContacts: escalationContacts
    snoozeTagKey: snoozeTagKey
    snoozeReasonTagKey: snoozeReasonTagKey
    maxSnoozeDays: maxSnoozeDays
    sendMode: sendMode
    redirectAddress: redirectAddress
    senderAddress: email.outputs.senderAddress
    communicationServicesEndpoint: email.outputs.endpoint
    emailPerMinute: emailPerMinute > 0 ? emailPerMinute : (useCustomEmailDomain ? 30 : 5)
    emailPerHour: emailPerHour > 0 ? emailPerHour : (useCustomEmailDomain ? 100 : 10)
    emailStatusReadsPerMinute: emailStatusReadsPerMinute > 0 ? emailStatusReadsPerMinute : (useCustomEmailDomain ? 60 : 10)
    emailStatusReadsPerHour: emailStatusReadsPerHour > 0 ? emailStatusReadsPerHour : (useCustomEmailDomain ? 200 : 20)
    emailNotFoundGraceHours: emailNotFoundGraceHours
    undeliverableRetryDays: undeliverableRetryDays
    digestItemsInFull: digestItemsInFull
    adminSummaryTo: adminSummaryTo
    reportContainer: reportContainer
    ledgerTable: ledgerTable
  }
}

// ---------------------------------------------------------------------------
// Role assignments
// ---------------------------------------------------------------------------

// Storage, Application Insights and email roles, all inside the resource group.
module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    appInsightsName: appInsights.outputs.name
    communicationServiceName: email.outputs.communicationServiceName
    emailSenderRole: emailSenderRole
    environmentName: environmentName
  }
}

// Reader on the audit scope (default: this subscription). Management groups cannot be targeted
// from a subscription deployment; docs/deploy.md has the one command for that.
module auditReader './app/reader.bicep' = [
  for subscriptionId in (assignAuditReader ? readerSubscriptionList : []): {
    name: 'reader-${resourceToken}-${subscriptionId}'
    scope: subscription(subscriptionId)
    params: {
      principalId: identity.outputs.principalId
    }
  }
]

// Microsoft Graph application permissions (User.Read.All, GroupMember.Read.All) for owners from role assignments.
// Only when the deployer may grant app roles in Entra ID; otherwise docs/deploy.md has the one command, and
// OWNER_SOURCES stays "tags" until it has been run. The module is a resource group deployment (it declares no
// targetScope, as the Microsoft Graph Bicep quickstarts, which deploy with `az deployment group create`); from this
// subscription-scoped file it needs `scope:`, or Bicep stops with BCP035/BCP134 (test/infra/bicepScopes.test.ts).
module graphPermissions './app/graphPermissions.bicep' = if (grantGraphPermissions) {
  name: 'graph-permissions-${resourceToken}'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
  }
}

// ---------------------------------------------------------------------------
// Delivery reports: Event Grid system topic on Communication Services -> emailDeliveryReport
// ---------------------------------------------------------------------------

module deliveryReports './app/deliveryReports.bicep' = {
  name: 'deliveryReports'
  scope: rg
  params: {
    communicationServiceName: email.outputs.communicationServiceName
    systemTopicName: 'evgt-${resourceToken}'
    tags: tags
  }
}

// ---------------------------------------------------------------------------
// Outputs (azd stores them in .azure/<env>/.env)
// ---------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_SUBSCRIPTION_ID string = subscription().subscriptionId
output RESOURCE_GROUP string = rg.name
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = 'https://${api.outputs.defaultHostname}'
output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output COMMUNICATION_SERVICES_NAME string = email.outputs.communicationServiceName
output COMMUNICATION_SERVICES_ENDPOINT string = email.outputs.endpoint
output SENDER_ADDRESS string = email.outputs.senderAddress
output SEND_MODE string = sendMode
output EVENT_GRID_SYSTEM_TOPIC_NAME string = deliveryReports.outputs.systemTopicName
