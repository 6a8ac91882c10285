// Delivery reports: an Event Grid system topic on the Communication Services resource and one subscription that
// hands only Microsoft.Communication.EmailDeliveryReportReceived events to the emailDeliveryReport function.
// Least privilege: no identity and no role assignment is needed; the subscription delivers to the function through
// Event Grid's own Azure Function destination (the deployer needs to read the function's keys, which
// Contributor on the resource group gives), and it carries no other event type.
// Event schema and event types: Microsoft Learn, "Azure Communication Services - Email events".

@description('Name of the Communication Services resource whose email events are wanted.')
param communicationServiceName string

@description('Resource id of the Function App hosting emailDeliveryReport.')
param functionAppId string

@description('false on the first provision: the subscription needs the function deployed (Event Grid validates the destination). See docs/deploy.md.')
param subscribe bool

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

resource deliveryReports 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (subscribe) {
  parent: systemTopic
  name: 'email-delivery-reports'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/emailDeliveryReport'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.EmailDeliveryReportReceived'
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    // A report that cannot be recorded (storage down) is retried for a day; the handler is idempotent.
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output systemTopicName string = systemTopic.name
output subscribed bool = subscribe
