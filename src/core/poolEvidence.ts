// Pool certificate references come from two sources that may not agree: the Batch management API (read at an
// api-version whose pool contract still has `certificates`) and Resource Graph's `batchresources` rows (read at the
// provider's latest api-version, which may no longer carry the key). Findings are their union; a disagreement is
// written on the pool, never resolved silently in either direction.
import { lastSegment } from "./certificateReference.js";
import type { PoolCertificateReference, PoolEvidenceSource, PoolInfo } from "./model.js";
import type { ReportedPool } from "./ports.js";

/** Pools of one account that reference certificates, from the Batch API's list and Resource Graph's rows. */
export function mergePoolEvidence(fromBatch: readonly PoolInfo[] | undefined, fromGraph: readonly PoolInfo[]): PoolInfo[] {
  const merged = new Map<string, PoolInfo>();
  for (const pool of fromBatch ?? []) {
    if (pool.certificateReferences.length === 0) continue;
    merged.set(pool.id.toLowerCase(), { ...pool, sources: ["batch-api"] });
  }
  const batchPools = new Map((fromBatch ?? []).map((p) => [p.id.toLowerCase(), p]));
  for (const graphPool of fromGraph) {
    const key = graphPool.id.toLowerCase();
    const batchPool = batchPools.get(key);
    if (fromBatch === undefined) {
      merged.set(key, { ...graphPool, sources: ["resource-graph"] });
      continue;
    }
    if (!batchPool) {
      merged.set(key, {
        ...graphPool,
        sources: ["resource-graph"],
        disagreement: "Resource Graph lists this pool with certificate references, but the Batch API did not return the pool (Resource Graph can lag behind a deletion)",
      });
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
    });
  }
  return [...merged.values()];
}

/**
 * Resource Graph's rows as a stand-in for an account's pools: usable only when every row carries the `certificates`
 * key (a row without it means "not reported", never "none"). Returns the pools that reference certificates, or the
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
    if (row.certificateReferences === "not-reported" || row.certificateReferences.length === 0) continue;
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
