// The hand-written alternative the auditor is measured against: one request at a time, per subscription list the
// Batch accounts, then per account list its certificates and its pools. Same SDK clients, same simulator.
import { ArmBatchCertificates } from "../src/azure/batchCertificates.js";
import { armSubscriptionLister } from "../src/azure/armSubscriptions.js";
import { batchClientFactory, type ArmConnection } from "../src/azure/clients.js";

export interface BaselineResult {
  accounts: number;
  accountCertificates: number;
  poolsWithCertificates: number;
  failedAccounts: number;
}

export async function naiveBaseline(conn: ArmConnection): Promise<BaselineResult> {
  const clientFor = batchClientFactory(conn);
  const certificates = new ArmBatchCertificates(clientFor);
  const result: BaselineResult = { accounts: 0, accountCertificates: 0, poolsWithCertificates: 0, failedAccounts: 0 };
  for (const subscriptionId of await armSubscriptionLister(conn)()) {
    const client = clientFor(subscriptionId);
    for await (const account of client.batchAccountOperations.list()) {
      result.accounts++;
      const resourceGroup = /\/resourceGroups\/([^/]+)/i.exec(account.id ?? "")?.[1] ?? "";
      const info = { id: account.id ?? "", name: account.name ?? "", subscriptionId, resourceGroup, location: account.location ?? "", tags: account.tags ?? {} };
      try {
        result.accountCertificates += (await certificates.listCertificates(info)).length;
        for await (const pool of client.poolOperations.listByBatchAccount(resourceGroup, info.name)) {
          if ((pool.certificates?.length ?? 0) > 0) result.poolsWithCertificates++;
        }
      } catch {
        result.failedAccounts++;
      }
    }
  }
  return result;
}
