// An owner's digest as a plan, per Batch account: each step once, and only the steps that apply. A pool is replaced
// (its migration kit is attached), each certificate it uses is imported into Key Vault once, the identity is made
// once per account, certificates nobody uses are deleted together, and the cases that need something else (a
// reference to a certificate the account does not hold, a deletion blocked by nodes, a deletion in progress) say so.
import type { Finding } from "../core/model.js";

export interface PlanStep {
  text: string;
  /** A few words naming the step, for the comment over its commands in the account's command block. */
  label?: string;
  /** Shell lines, shown together in one block. */
  commands?: string[];
  link?: { label: string; url: string };
}

const POOL_EXTENSIONS_URL = "https://learn.microsoft.com/azure/batch/create-pool-extensions";
/** The api-version the certificate delete is sent at: the last with the certificate operations the auditor reads. */
const CERTIFICATE_API_VERSION = "2023-11-01";
const VAULT = "<your-key-vault>";

/** Quotes a value for a POSIX shell command line unless it is plainly safe. */
function shq(s: string): string {
  return /^[A-Za-z0-9._/:@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A certificate's name as prose shows it: `sha1-5383ce03…` for a thumbprint name. The item list and the commands
 * carry the full names; in sentences 40 hex digits only push the words apart, and eight tell certificates apart.
 */
export function shortCertificateName(name: string): string {
  return /^[a-z0-9]+-[0-9a-f]{32,}$/i.test(name) ? `${name.slice(0, name.indexOf("-") + 9)}…` : name;
}

const list = (names: readonly string[]) => names.map(shortCertificateName).join(", ");

export function accountPlan(findings: readonly Finding[]): PlanStep[] {
  const first = findings[0];
  if (!first) return [];
  const rg = shq(first.resourceGroup);
  const pools = findings.filter((f) => f.kind === "pool-certificate-reference");
  const certificates = findings.filter((f) => f.kind === "account-certificate" && f.certificate);

  // Certificates some pool needs: from the pools' references (resolving ones) and from used certificates.
  const needed = new Map<string, { inAccount: boolean }>();
  const dangling = new Map<string, string[]>();
  for (const p of pools) {
    for (const r of p.references ?? []) {
      const name = (r.certificateName ?? r.id.split("/").pop() ?? r.id).toLowerCase();
      if (r.resolves === false) dangling.set(name, [...(dangling.get(name) ?? []), p.poolName ?? ""]);
      else needed.set(name, { inAccount: true });
    }
  }
  for (const c of certificates) if (c.certificate!.referencedByPools.length > 0) needed.set(c.certificate!.name.toLowerCase(), { inAccount: true });

  const deleting = certificates.filter((c) => c.certificate!.provisioningState === "Deleting");
  const blocked = certificates.filter((c) => c.certificate!.provisioningState === "Failed" && c.certificate!.deleteCertificateError);
  const unused = certificates.filter(
    (c) => c.certificate!.referencedByPools.length === 0 && c.severity === "warning" && !deleting.includes(c) && !blocked.includes(c),
  );
  const unknownUse = certificates.filter((c) => c.certificate!.referencedByPools.length === 0 && c.severity === "critical" && !deleting.includes(c) && !blocked.includes(c));

  const steps: PlanStep[] = [];
  const replacing = pools.length > 0 || certificates.some((c) => c.certificate!.referencedByPools.length > 0);
  if (needed.size > 0) {
    steps.push({
      text: `Import ${needed.size === 1 ? "the certificate" : `each of the ${needed.size} certificates`} into Azure Key Vault, once, from the PFX you uploaded to Batch (Batch cannot give the private key back): ${list([...needed.keys()])}.`,
      label: "import into Key Vault",
      commands: [...needed.keys()].map((n) => `az keyvault certificate import --vault-name ${VAULT} --name ${shq(n)} --file ${shq(`${n}.pfx`)} --password <pfx-password>`),
    });
  }
  for (const [name, where] of dangling) {
    steps.push({
      text: `Pool ${where.filter(Boolean).join(", ")} references certificate ${shortCertificateName(name)}, which this account no longer holds: import it into Key Vault from wherever you keep it if the pool still needs it, or leave it out of the new pool.`,
    });
  }
  if (replacing) {
    steps.push({
      text: "Create one user-assigned managed identity for the new pools of this account and let it read the vault's secrets.",
      label: "identity for the new pools",
      commands: [
        `az identity create --resource-group ${rg} --name batch-pool-keyvault`,
        `az role assignment create --role "Key Vault Secrets User" --assignee-object-id "$(az identity show --resource-group ${rg} --name batch-pool-keyvault --query principalId -o tsv)" --assignee-principal-type ServicePrincipal --scope "$(az keyvault show --name ${VAULT} --query id -o tsv)"`,
      ],
    });
  }
  for (const p of pools) {
    const kit = p.migration;
    const uses = [...new Set((p.references ?? []).map((r) => (r.certificateName ?? r.id.split("/").pop() ?? r.id).toLowerCase()))];
    const ready = kit?.replacementPool
      ? ` create ${kit.replacementPoolName} from the attached ${kit.fileName} (fill in each <REPLACE: …>), move the jobs to it, then delete the old pool.`
      : " its configuration could not be read from the Batch API, so copy its settings into a new pool that has the identity and the Azure Key Vault VM extension, move the jobs to it, then delete the old pool.";
    steps.push({
      text: `Replace pool ${p.poolName ?? ""} (uses ${uses.length === 1 ? "certificate" : "certificates"} ${list(uses)}):${ready}`,
      label: `replace ${p.poolName ?? ""}`,
      commands: [
        ...(kit?.replacementPool
          ? [`az rest --method put --url ${shq(`https://management.azure.com${p.accountId}/pools/${kit.replacementPoolName}?api-version=${kit.apiVersion}`)} --body @${shq(kit.fileName)}`]
          : []),
        "# once its jobs run on the new pool:",
        `az batch account login --name ${shq(p.accountName)} --resource-group ${rg}`,
        `az batch pool delete --account-name ${shq(p.accountName)} --pool-id ${shq(p.poolName ?? "")}`,
      ],
      link: { label: "Pools with extensions", url: POOL_EXTENSIONS_URL },
    });
  }
  // Pools named by a certificate but not among this owner's findings (e.g. owned by someone else) still need replacing.
  const otherPools = [...new Set(certificates.flatMap((c) => c.certificate!.referencedByPools))].filter((name) => !pools.some((p) => p.poolName === name));
  if (otherPools.length > 0) {
    steps.push({ text: `Replace pool${otherPools.length === 1 ? "" : "s"} ${otherPools.join(", ")} the same way (each has its own kit in the audit report), then delete the old pool.` });
  }
  for (const c of blocked) {
    const cert = c.certificate!;
    const targets = (cert.deleteCertificateError!.details ?? []).map((d) => d.target ?? d.message).filter(Boolean);
    steps.push({
      text: `Deleting ${shortCertificateName(cert.name)} was refused (${cert.deleteCertificateError!.code})${targets.length ? `: still held by ${targets.join(", ")}` : ""}. Replace or drain those pools first, then delete it again.`,
    });
  }
  const usedInAccount = certificates.filter((c) => c.certificate!.referencedByPools.length > 0 && !deleting.includes(c) && !blocked.includes(c));
  const deleteLater = [...usedInAccount, ...blocked];
  if (deleteLater.length > 0) {
    steps.push({
      text: `Once the pools are replaced and drained, delete the certificates they used: ${list(deleteLater.map((c) => c.certificate!.name))}.`,
      label: "delete the certificates the pools used",
      commands: deleteLater.map((c) => `az rest --method delete --url ${shq(`https://management.azure.com${c.certificate!.id}?api-version=${CERTIFICATE_API_VERSION}`)}`),
    });
  }
  if (unused.length > 0) {
    steps.push({
      text: `Delete unused certificates ${list(unused.map((c) => c.certificate!.name))}: no pool uses them.`,
      label: "delete unused certificates",
      commands: unused.map((c) => `az rest --method delete --url ${shq(`https://management.azure.com${c.certificate!.id}?api-version=${CERTIFICATE_API_VERSION}`)}`),
    });
  }
  if (unknownUse.length > 0) {
    steps.push({
      text: `Check which pools use ${list(unknownUse.map((c) => c.certificate!.name))} before deleting: this account's pools could not be read.`,
    });
  }
  if (deleting.length > 0) {
    steps.push({ text: `Nothing to do for ${list(deleting.map((c) => c.certificate!.name))}: deletion is in progress, and the audit drops ${deleting.length === 1 ? "it" : "them"} when it ends.` });
  }
  // A sentence that ends on a shortened name ends on its ellipsis, not on "…."
  return steps.map((s) => ({ ...s, text: s.text.replace(/…\./g, "…") }));
}
