// Azure Communication Services Email: an Email Communication Service with its domain(s),
// the DoNotReply sender, and the Communication Services resource the app sends through.
// Plain resources: the app needs only these few properties.

param communicationServiceName string
param emailServiceName string

@description('Data location shared by both resources (they must match to be linked).')
param dataLocation string = 'United States'

// Sending limits differ by domain type (per subscription, defaults):
//   Azure-managed domain (AzureManagedDomain, <guid>.azurecomm.net): 5 emails/minute, 10/hour.
//   Custom verified domain: 30 emails/minute, 100/hour.
// Raise either with an Azure support request ("Service and subscription limits (quotas)").
@description('Custom domain to send from, e.g. notify.contoso.com. Empty: Azure-managed domain only.')
param customDomainName string = ''

@description('Link (and send from) the custom domain. Only a verified domain can be linked: deploy once, add the DNS records, verify, then set this to true.')
param linkCustomDomain bool = false

param senderDisplayName string = 'Batch certificate auditor'
param tags object = {}

var senderUsername = 'DoNotReply'

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

// Default: a free Azure-managed subdomain, usable at once without DNS work.
resource azureManagedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource azureManagedSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = {
  parent: azureManagedDomain
  name: toLower(senderUsername)
  properties: {
    username: senderUsername
    displayName: senderDisplayName
  }
}

// Optional custom domain. Its SPF/DKIM/domain TXT records are shown by
// `az communication email domain show` (or the portal) and must be added to DNS and verified.
resource customDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = if (!empty(customDomainName)) {
  parent: emailService
  name: !empty(customDomainName) ? customDomainName : 'unused.invalid'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'CustomerManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource customSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = if (!empty(customDomainName)) {
  parent: customDomain
  name: toLower(senderUsername)
  properties: {
    username: senderUsername
    displayName: senderDisplayName
  }
}

var useCustomDomain = !empty(customDomainName) && linkCustomDomain

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    // The link that lets this resource send from the domain(s).
    linkedDomains: useCustomDomain ? [azureManagedDomain.id, customDomain.id] : [azureManagedDomain.id]
  }
  dependsOn: [
    azureManagedSender
  ]
}

output communicationServiceName string = communicationService.name
output communicationServiceId string = communicationService.id
output endpoint string = 'https://${communicationService.properties.hostName}'
output senderAddress string = useCustomDomain
  ? '${senderUsername}@${customDomainName}'
  : '${senderUsername}@${azureManagedDomain.properties.mailFromSenderDomain}'
