// Official 200 bodies from Azure/azure-rest-api-specs (see ../shared/reference/azure-rest-examples/README.md):
// batch stable/2024-07-01 CertificateList.json and PoolList.json (pool properties trimmed), batch 2026-08-01
// PoolList.json (no certificates), resourcegraph stable/2024-04-01 ResourcesNextPageQuery.json.
export const OFFICIAL_EXAMPLES = {
  "certificateList": {
    "value": [
      {
        "id": "/subscriptions/subid/resourceGroups/default-azurebatch-japaneast/providers/Microsoft.Batch/batchAccounts/samplecct/certificates/sha1-0a0e4f50d51beadeac1d35afc5116098e7902e6e",
        "name": "sha1-0a0e4f50d51beadeac1d35afc5116098e7902e6e",
        "type": "Microsoft.Batch/batchAccounts/certificates",
        "etag": "W/\"0x8D4EDD5118668F7\"",
        "properties": {
          "thumbprintAlgorithm": "sha1",
          "thumbprint": "0a0e4f50d51beadeac1d35afc5116098e7902e6e",
          "provisioningState": "Succeeded",
          "provisioningStateTransitionTime": "2017-07-21T01:47:38.4420202Z",
          "format": "Pfx",
          "publicData": "MIICrjCCAZagAwI..."
        }
      }
    ],
    "nextLink": "https://management.azure.com/subscriptions/subid/resourceGroups/default-azurebatch-japaneast/providers/Microsoft.Batch/batchAccounts/samplecct/certificates?api-version=2024-07-01&$skiptoken=NPK%3D28%3A2857p428pug%2022F53A7734C947B8NRK%3D45%3Asha1-c23dc7f22edc793856a7506fe66397ccb4a33b46SM%3D5%3AFalse"
  },
  "poolList": {
    "value": [
      {
        "id": "/subscriptions/subid/resourceGroups/default-azurebatch-japaneast/providers/Microsoft.Batch/batchAccounts/sampleacct/pools/testpool",
        "name": "testpool",
        "type": "Microsoft.Batch/batchAccounts/pools",
        "properties": {
          "lastModified": "2017-08-28T10:22:55.9407275Z",
          "creationTime": "2017-08-28T10:22:55.9407275Z",
          "provisioningState": "Succeeded",
          "certificates": [
            {
              "id": "/subscriptions/subid/resourceGroups/default-azurebatch-japaneast/providers/Microsoft.Batch/batchAccounts/sampleacct/pools/testpool/certificates/sha1-1234567",
              "storeLocation": "LocalMachine",
              "storeName": "MY",
              "visibility": [
                "RemoteUser"
              ]
            }
          ]
        }
      }
    ]
  },
  "poolList20260801": {
    "value": [
      {
        "id": "/subscriptions/12345678-1234-1234-1234-123456789012/resourceGroups/default-azurebatch-japaneast/providers/Microsoft.Batch/batchAccounts/sampleacct/pools/testpool",
        "name": "testpool",
        "type": "Microsoft.Batch/batchAccounts/pools",
        "properties": {
          "allocationState": "Steady",
          "allocationStateTransitionTime": "2017-08-28T10:22:55.9407275Z",
          "applicationPackages": [
            {
              "id": "/subscriptions/12345678-1234-1234-1234-123456789012/resourceGroups/default-azurebatch-japaneast/providers/Microsoft.Batch/batchAccounts/sampleacct/pools/testpool/applications/app_1234",
              "version": "asdf"
            }
          ]
        }
      }
    ]
  },
  "resourcesNextPage": {
    "totalRecords": 386,
    "count": 3,
    "resultTruncated": "false",
    "facets": [],
    "$skipToken": "eyAibm8yIjogImx1Y2syIiwgImJ1dDIiOiAibmljZTIiLCAidHJ5MiI6ICIhIiB9",
    "data": [
      {
        "id": "/subscriptions/cfbbd179-59d2-4052-aa06-9270a38aa9d6/resourceGroups/RG1/providers/Microsoft.Compute/disks/second_OsDisk_dddddbcb625a457bb69fe2abf5975820",
        "name": "second_OsDisk_dddddbcb625a457bb69fe2abf5975820",
        "type": "microsoft.compute/disks",
        "location": "eastus"
      },
      {
        "id": "/subscriptions/cfbbd179-59d2-4052-aa06-9270a38aa9d6/resourceGroups/RG2/providers/Microsoft.Automation/automationAccounts/AATest",
        "name": "AATest",
        "type": "microsoft.automation/automationaccounts",
        "location": "westcentralus"
      },
      {
        "id": "/subscriptions/cfbbd179-59d2-4052-aa06-9270a38aa9d6/resourceGroups/RG2/providers/Microsoft.Automation/automationAccounts/TestAA/runbooks/RBTest",
        "name": "RBTest",
        "type": "microsoft.automation/automationaccounts/runbooks",
        "location": "westcentralus"
      }
    ]
  }
} as const;
