// Pool certificate references come from two sources that may not agree: the Batch management API (read at an
// api-version whose pool contract still has `certificates`) and Resource Graph's `batchresources` rows (read at the
// provider's latest api-version, which may no longer carry the key). Findings are their union; a disagreement is
// written on the pool, never resolved silently in either direction.
import { lastSegment } from "./certificateReference.js";
import type { PoolCertificateReference, PoolEvidenceSource, PoolFacts, PoolInfo } from "./model.js";
import type { ReportedPool } from "./ports.js";

/**
 * Every pool of one account, from the Batch API's list and Resource Graph's rows: certificate references as their
 * union (a disagreement written on the pool), facts from both (the Batch API's where it carried a property). With a
 * Batch list, a pool only Resource Graph shows is kept only when it shows references (Resource Graph can lag behind a
 * deletion: the finding says so); without one, every Resource Graph pool is kept as it is (no copy: at 500,000 pools
 * each copy counts).
 */
export function mergePoolEvidence(fromBatch: readonly PoolInfo[] | undefined, fromGraph: readonly PoolInfo[]): PoolInfo[] {
  if (fromBatch === undefined) return fromGraph.map((pool) => (pool.certificateReferences.length > 0 ? { ...pool, sources: ["resource-graph"] } : pool));
  const merged = new Map<string, PoolInfo>();
  for (const pool of fromBatch) merged.set(pool.id.toLowerCase(), pool.certificateReferences.length > 0 ? { ...pool, sources: ["batch-api"] } : pool);
  for (const graphPool of fromGraph) {
    const key = graphPool.id.toLowerCase();
    const batchPool = merged.get(key);
    if (!batchPool) {
      if (graphPool.certificateReferences.length === 0) continue;
      merged.set(key, {
        ...graphPool,
        sources: ["resource-graph"],
        disagreement: "Resource Graph lists this pool with certificate references, but the Batch API did not return the pool (Resource Graph can lag behind a deletion)",
      });
      continue;
    }
    const facts = mergeFacts(graphPool.facts, batchPool.facts);
    if (graphPool.certificateReferences.length === 0) {
      // Resource Graph's row shows no references (or does not carry them): the Batch API's list stands.
      if (facts !== batchPool.facts) merged.set(key, { ...batchPool, ...(facts ? { facts } : {}) });
      continue;
    }
    const batchRefs = referenceKeys(batchPool.certificateReferences);
    const graphRefs = referenceKeys(graphPool.certificateReferences);
    const sources: PoolEvidenceSource[] = batchPool.certificateReferences.length > 0 ? ["batch-api", "resource-graph"] : ["resource-graph"];
    const disagreement = describeDisagreement(batchRefs, graphRefs);
    merged.set(key, {
      ...batchPool,
      certificateReferences: unionReferences(batchPool.certificateReferences, graphPool.certificateReferences),
      sources,
      ...(disagreement ? { disagreement } : {}),
      ...(facts ? { facts } : {}),
    });
  }
  return [...merged.values()];
}

/** Both reads' facts of one pool: the Batch API's where it carried a property, Resource Graph's where only it did. */
export function mergeFacts(fromGraph: PoolFacts | undefined, fromBatch: PoolFacts | undefined): PoolFacts | undefined {
  if (!fromGraph) return fromBatch;
  if (!fromBatch) return fromGraph;
  const merged: PoolFacts = { ...fromGraph };
  for (const [key, value] of Object.entries(fromBatch)) if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  return merged;
}

/**
 * Resource Graph's rows as a stand-in for an account's pools: usable only when every row carries the `certificates`
 * key (a row without it means "not reported", never "none"). Returns the account's pools (with their facts), or the
 * reason the rows cannot stand in.
 */
export function poolsFromReportedRows(rows: readonly ReportedPool[]): { pools: PoolInfo[] } | { unreported: string } {
  // Resource Graph shows only what the caller may read, and lags behind new pools: no rows is not "no pools".
  if (rows.length === 0) return { unreported: "Resource Graph lists no pools for the account, which cannot be told apart from pools it does not show" };
  const silent = rows.filter((r) => r.certificateReferences === "not-reported");
  if (silent.length > 0) {
    return {
      unreported: `Resource Graph does not report certificate references for ${silent.length === 1 ? "pool" : "pools"} ${silent
        .slice(0, 5)
        .map((r) => r.name)
        .join(", ")}${silent.length > 5 ? ", …" : ""} (its pool rows have no "certificates" property)`,
    };
  }
  const pools: PoolInfo[] = [];
  for (const row of rows) {
    if (row.certificateReferences === "not-reported") continue;
    pools.push({ ...row, certificateReferences: row.certificateReferences });
  }
  return { pools };
}

function referenceKeys(refs: readonly PoolCertificateReference[]): Set<string> {
  return new Set(refs.map((r) => r.id.trim().toLowerCase()));
}

function unionReferences(a: readonly PoolCertificateReference[], b: readonly PoolCertificateReference[]): PoolCertificateReference[] {
  const seen = new Set(a.map((r) => r.id.trim().toLowerCase()));
  return [...a, ...b.filter((r) => !seen.has(r.id.trim().toLowerCase()))];
}

function describeDisagreement(batch: Set<string>, graph: Set<string>): string | undefined {
  const onlyBatch = [...batch].filter((id) => !graph.has(id));
  const onlyGraph = [...graph].filter((id) => !batch.has(id));
  if (onlyBatch.length === 0 && onlyGraph.length === 0) return undefined;
  const parts: string[] = [];
  if (onlyGraph.length > 0) parts.push(`Resource Graph lists ${count(onlyGraph.length)} the Batch API does not (${onlyGraph.map(lastSegment).join(", ")})`);
  if (onlyBatch.length > 0) parts.push(`the Batch API lists ${count(onlyBatch.length)} Resource Graph does not (${onlyBatch.map(lastSegment).join(", ")})`);
  return `The sources disagree: ${parts.join("; ")}. Both are shown; Resource Graph can lag behind changes`;
}

function count(n: number): string {
  return `${n} certificate ${n === 1 ? "reference" : "references"}`;
}
