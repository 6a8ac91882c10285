// Storage clients from AzureWebJobsStorage: a connection string locally (Azurite), the managed identity in Azure.
import { TableClient } from "@azure/data-tables";
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient } from "@azure/storage-blob";

export interface StorageTarget {
  connectionString?: string | undefined;
  accountName?: string | undefined;
  credential?: TokenCredential;
}

export interface StorageClients {
  blobs: BlobServiceClient;
  table(name: string): TableClient;
}

export function connectStorage(target: StorageTarget): StorageClients {
  if (target.connectionString) {
    const cs = target.connectionString;
    // Azurite speaks plain http on loopback; the Tables SDK refuses that unless told it is allowed.
    const allowInsecureConnection = /^DefaultEndpointsProtocol=http;|UseDevelopmentStorage=true/i.test(cs);
    return {
      blobs: BlobServiceClient.fromConnectionString(cs),
      table: (name) => TableClient.fromConnectionString(cs, name, { allowInsecureConnection }),
    };
  }
  if (target.accountName && target.credential) {
    const credential = target.credential;
    const account = target.accountName;
    return {
      blobs: new BlobServiceClient(`https://${account}.blob.core.windows.net`, credential),
      table: (name) => new TableClient(`https://${account}.table.core.windows.net`, name, credential),
    };
  }
  throw new Error("Storage is not configured: set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName (managed identity)");
}
