// Delivery reports: the Event Grid system topic on the Communication Services resource. Its one subscription, which
// hands only Microsoft.Communication.EmailDeliveryReportReceived events to the emailDeliveryReport function, is made
// by the azd postdeploy hook (infra/hooks/subscribeDeliveryReports.js): Event Grid validates an AzureFunction
// destination when the subscription is created, and `azd up` provisions before it deploys the code.
// Least privilege: no identity and no role assignment is needed; the subscription delivers to the function through
// Event Grid's own Azure Function destination, and it carries no other event type.
// Event schema and event types: Microsoft Learn, "Azure Communication Services - Email events".

@description('Name of the Communication Services resource whose email events are wanted.')
param communicationServiceName string

param systemTopicName string
param tags object = {}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

// Communication Services is a global resource, so its system topic is too.
resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: systemTopicName
  location: 'global'
  tags: tags
  properties: {
    source: communicationService.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

output systemTopicName string = systemTopic.name
