// An owner's digest as a plan, per Batch account: each step once, and only the steps that apply. Each certificate a
// pool uses goes into Key Vault once (the way its kind needs: src/core/migrationSteps.ts, the same source the
// migration kit's script renders from), the identity is made once per account, each pool is replaced by its kit's
// script, certificates are deleted once each, and the cases that need something else (a reference to a certificate
// the account does not hold, a deletion blocked by nodes, a deletion in progress) say so.
import {
  baseVariables,
  certificateImport,
  createPoolCommand,
  deleteCertificateCommand,
  grantCommands,
  identityCreateCommand,
  IDENTITY_ID_PLACEHOLDER,
  variableLines,
  type CertificateToMigrate,
  type StepVariable,
} from "../core/migrationSteps.js";
import type { Finding, MigrationKit } from "../core/model.js";
import { shellQuote } from "../core/shellQuote.js";
import { scriptFileName } from "./migrationFiles.js";

export interface PlanStep {
  text: string;
  /** A few words naming the step, for the comment over its commands in the account's command block. */
  label?: string;
  /** Shell lines, shown together in one block. */
  commands?: string[];
  /** `NAME='value'` lines the commands need, set once at the top of the account's command block. */
  setup?: string[];
  link?: { label: string; url: string };
}

export interface PlanOptions {
  /** Body file names of the kits attached to the message; a kit not in it is "in the audit report". */
  attachedKits?: ReadonlySet<string>;
}

const POOL_EXTENSIONS_URL = "https://learn.microsoft.com/azure/batch/create-pool-extensions";

/**
 * A certificate's name as prose shows it: `sha1-5383ce03…` for a thumbprint name. The item list and the commands
 * carry the full names; in sentences 40 hex digits only push the words apart, and eight tell certificates apart.
 */
export function shortCertificateName(name: string): string {
  return /^[a-z0-9]+-[0-9a-f]{32,}$/i.test(name) ? `${name.slice(0, name.indexOf("-") + 9)}…` : name;
}

const list = (names: readonly string[]) => names.map(shortCertificateName).join(", ");
const referenceName = (r: { certificateName?: string; id: string }) => (r.certificateName ?? r.id.split("/").pop() ?? r.id).toLowerCase();

export function accountPlan(all: readonly Finding[], options: PlanOptions = {}): PlanStep[] {
  // Findings carried as last seen (this run could not check them) get no step that acts on them: only a word. A
  // carried pool with a kit keeps its step: a kit is built for one only where this run read the account's pool names
  // (Azure refused the certificate API as retired), and the kit goes with the digest.
  const acts = (f: Finding) => f.notRechecked === undefined || f.migration !== undefined;
  const findings = all.filter(acts);
  const carried = all.filter((f) => !acts(f));
  const unchecked = carried.length > 0 ? [notRecheckedStep(carried)] : [];
  const first = findings[0];
  if (!first) return unchecked;
  const pools = findings.filter((f) => f.kind === "pool-certificate-reference");
  const certificates = findings.filter((f) => f.kind === "account-certificate" && f.certificate);
  const kits = pools.flatMap((p) => (p.migration ? [p.migration] : []));
  // The kits' variables (configured values or placeholders), so the digest's commands and the scripts read alike.
  const variables = new Map<string, StepVariable>((kits[0]?.variables ?? baseVariables({})).map((v) => [v.name, { ...v, about: "" }]));
  const setupFor = (names: readonly string[], extra: readonly StepVariable[] = []) =>
    variableLines([...names.flatMap((n) => (variables.has(n) ? [variables.get(n)!] : [])), ...extra]);

  // Certificates some pool needs, the account holding them: from the pools' references and from used certificates.
  const needed = new Map<string, CertificateToMigrate>();
  const dangling = new Map<string, string[]>();
  for (const p of pools) {
    for (const r of p.references ?? []) {
      const name = referenceName(r);
      if (r.resolves === false) dangling.set(name, [...(dangling.get(name) ?? []), p.poolName ?? ""]);
      else if (!needed.has(name)) needed.set(name, { secretName: name, inAccount: r.resolves, ...kitCertificate(p.migration, name) });
    }
  }
  for (const c of certificates) {
    const cert = c.certificate!;
    const name = cert.name.toLowerCase();
    if (cert.referencedByPools.length === 0) continue;
    needed.set(name, { ...needed.get(name), secretName: name, inAccount: true, certificateId: cert.id, ...(cert.format ? { format: cert.format } : {}) });
  }

  const deleting = certificates.filter((c) => c.certificate!.provisioningState === "Deleting");
  const blocked = certificates.filter((c) => c.certificate!.provisioningState === "Failed" && c.certificate!.deleteCertificateError);
  const settled = (c: Finding) => !deleting.includes(c) && !blocked.includes(c);
  const unused = certificates.filter((c) => c.certificate!.referencedByPools.length === 0 && c.severity === "warning" && settled(c));
  const unknownUse = certificates.filter((c) => c.certificate!.referencedByPools.length === 0 && c.severity === "critical" && settled(c));
  // Each certificate is deleted once in a digest: by a kit (the only pool that uses it), or by one step here.
  const deleted = new Set(kits.flatMap((k) => k.certificates.filter((c) => c.deletedByKit && c.certificateId).map((c) => c.certificateId!.toLowerCase())));

  const steps: PlanStep[] = [];
  const imports = [...needed.values()].flatMap((c) => {
    const step = certificateImport(c);
    return step ? [{ name: c.secretName, ...step }] : [];
  });
  if (imports.length > 0) {
    steps.push({
      text: `Put ${imports.length === 1 ? "the certificate" : `each of the ${imports.length} certificates`} the ${pools.length === 1 ? "pool uses" : "pools use"} into Azure Key Vault, once (each pool's script does this too; once is enough): ${imports
        .map((i) => `${shortCertificateName(i.name)}: ${i.text}`)
        .join("; ")}.`,
      label: "into Key Vault",
      commands: imports.flatMap((i) => i.commands),
      setup: setupFor(["VAULT"], imports.flatMap((i) => i.variables)),
    });
  }
  for (const [name, where] of dangling) {
    steps.push({
      text: `Pool ${where.filter(Boolean).join(", ")} references certificate ${shortCertificateName(name)}, which this account does not hold: the new pool leaves it out and nothing imports it. If the pool still needs it, put it in Key Vault from wherever you keep it and add it to the extension's observedCertificates.`,
    });
  }
  const replacing = pools.length > 0 || certificates.some((c) => c.certificate!.referencedByPools.length > 0);
  if (replacing) {
    const unset = variables.get("IDENTITY_ID")?.value === IDENTITY_ID_PLACEHOLDER;
    steps.push({
      text: unset
        ? "Create one user-assigned managed identity for the new pools of this account, put the id and client id it prints into IDENTITY_ID and IDENTITY_CLIENT_ID (here and in each pool's kit), and let it read the vault's secrets."
        : "Let the configured user-assigned managed identity of the new pools read the vault's secrets.",
      label: "identity for the new pools",
      commands: [...(unset ? [identityCreateCommand(first.resourceGroup)] : []), ...grantCommands()],
      setup: setupFor(["VAULT", "IDENTITY_ID", "IDENTITY_CLIENT_ID"]),
    });
  }
  for (const p of pools) steps.push(replaceStep(p, options));
  // Pools named by a certificate but not among this owner's findings (e.g. owned by someone else) still need replacing.
  const otherPools = [...new Set(certificates.flatMap((c) => c.certificate!.referencedByPools))].filter((name) => !pools.some((p) => p.poolName === name));
  if (otherPools.length > 0) {
    steps.push({ text: `Replace pool${otherPools.length === 1 ? "" : "s"} ${otherPools.join(", ")} the same way (each has its own kit in the audit report).` });
  }
  for (const c of blocked) {
    const cert = c.certificate!;
    const targets = (cert.deleteCertificateError!.details ?? []).map((d) => d.target ?? d.message).filter(Boolean);
    steps.push({
      text: `Deleting ${shortCertificateName(cert.name)} was refused (${cert.deleteCertificateError!.code})${targets.length ? `: still held by ${targets.join(", ")}` : ""}. Replace or drain those pools first, then delete it again.`,
    });
  }
  const deleteLater = [...certificates.filter((c) => c.certificate!.referencedByPools.length > 0 && settled(c)), ...blocked].filter((c) => !deleted.has(c.certificate!.id.toLowerCase()));
  const laterCommands = deleteCommands(deleteLater, deleted);
  if (laterCommands.length > 0) {
    const one = deleteLater.length === 1;
    steps.push({
      text: `Once every pool that uses ${one ? "it" : "them"} is replaced, delete ${one ? "the certificate" : `the ${deleteLater.length} certificates`} ${list(deleteLater.map((c) => c.certificate!.name))}.`,
      label: "delete the certificates the pools used",
      commands: laterCommands,
    });
  }
  const unusedCommands = deleteCommands(unused, deleted);
  if (unusedCommands.length > 0) {
    steps.push({
      text: unused.length === 1 ? `Delete the unused certificate ${list([unused[0]!.certificate!.name])}: no pool uses it.` : `Delete the ${unused.length} unused certificates ${list(unused.map((c) => c.certificate!.name))}: no pool uses them.`,
      label: unused.length === 1 ? "delete the unused certificate" : "delete the unused certificates",
      commands: unusedCommands,
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
  return [...steps, ...unchecked].map((s) => ({ ...s, text: s.text.replace(/…\./g, "…") }));
}

/** One sentence for what this run could not check: nothing to run on it until a run reads it again. */
function notRecheckedStep(carried: readonly Finding[]): PlanStep {
  const names = carried.map((f) => (f.kind === "account-certificate" ? `certificate ${shortCertificateName(f.certificate?.name ?? f.resourceId.split("/").pop() ?? "")}` : `pool ${f.poolName ?? ""}`));
  const lastSeen = [...new Set(carried.map((f) => f.notRechecked!.lastSeen))].sort();
  return {
    text: `Not rechecked this run: ${list([...new Set(names)])} (last seen ${lastSeen.join(", ")}). The audit could not read what would tell whether ${carried.length === 1 ? "it is" : "they are"} still there, so nothing here acts on ${carried.length === 1 ? "it" : "them"}; check in the portal, or wait for the next run that can read the account.`,
  };
}

/** What the pool's kit knows of a certificate: its format and id. */
function kitCertificate(kit: MigrationKit | undefined, name: string): Partial<CertificateToMigrate> {
  const c = kit?.certificates.find((k) => k.secretName === name);
  return { ...(c?.format ? { format: c.format } : {}), ...(c?.certificateId ? { certificateId: c.certificateId } : {}) };
}

/** Delete commands for these certificates, each once (`deleted` holds the ids already deleted, and gains these). */
function deleteCommands(findings: readonly Finding[], deleted: Set<string>): string[] {
  const out: string[] = [];
  for (const f of findings) {
    const id = f.certificate!.id;
    if (deleted.has(id.toLowerCase())) continue;
    deleted.add(id.toLowerCase());
    out.push(deleteCertificateCommand(id));
  }
  return out;
}

function replaceStep(p: Finding, options: PlanOptions): PlanStep {
  const kit = p.migration;
  const uses = [...new Set((p.references ?? []).map(referenceName))];
  const head = `Replace pool ${p.poolName ?? ""} (uses ${uses.length === 1 ? "certificate" : "certificates"} ${list(uses)}):`;
  const link = { label: "Pools with extensions", url: POOL_EXTENSIONS_URL };
  if (!kit) return { text: `${head} create a new pool with the identity and the Azure Key Vault VM extension, move the jobs to it, then delete the old pool.`, link };
  const script = scriptFileName(kit);
  const attached = options.attachedKits?.has(kit.fileName) === true;
  const where = attached ? `run the attached ${script}.txt (save it as ${script}${kit.replacementPool ? ` beside the attached ${kit.fileName}` : ""}) with bash` : `run its kit's script ${script} (in the audit report; not attached to this email) with bash`;
  const what = kit.replacementPool
    ? `It stops until every <REPLACE: …> is filled in, creates ${kit.replacementPoolName} only if no pool has that name, waits until its nodes are ready, moves the job schedules and jobs without interrupting running tasks, and deletes ${p.poolName ?? "the old pool"} once nothing runs on it.`
    : `The pool's configuration could not be read from the Batch API, so create ${kit.replacementPoolName} yourself with the identity and the Azure Key Vault VM extension; the script does the rest.`;
  const warning = (kit.warnings ?? []).map((w) => ` Warning: ${w}.`).join("");
  return {
    text: `${head} ${where}. ${what}${warning}`,
    label: `replace ${p.poolName ?? ""}`,
    commands: kit.replacementPool ? [`# the script's create step (the rest is in ${script}):`, createPoolCommand(p.accountId, kit.replacementPoolName, kit.apiVersion, shellQuote(`@${kit.fileName}`))] : [],
    link,
  };
}
