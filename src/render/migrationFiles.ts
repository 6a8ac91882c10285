// The migration kit as files: per pool, the replacement pool's PUT body (`az rest --body @<file>`) and a shell
// script of the steps with the notes as comments. The CLI writes them under <out>/migrations/; owners' digests carry
// them as attachments; the report page links to the body.
import type { Finding, MigrationKit } from "../core/model.js";
import { flattenForComment } from "../core/shellQuote.js";

export interface MigrationFile {
  name: string;
  contentType: "application/json" | "text/plain";
  content: string;
}

/**
 * Communication Services Email takes at most 10 MB per request, attachments included (Learn: "Service limits for
 * Azure Communication Services", Email). A digest keeps its attachments far below that; kits beyond it stay in the
 * report and under <out>/migrations.
 */
export const MAX_ATTACHMENT_BYTES = 1_000_000;

export function migrationFiles(kit: MigrationKit): MigrationFile[] {
  const files: MigrationFile[] = [];
  if (kit.replacementPool) files.push({ name: kit.fileName, contentType: "application/json", content: `${JSON.stringify(kit.replacementPool, null, 2)}\n` });
  files.push({ name: scriptFileName(kit), contentType: "text/plain", content: migrationScript(kit) });
  return files;
}

/**
 * The kit's steps as a bash script. Every comment line is flattened (no value read from Azure can end it and start a
 * command); the commands quote what they use (src/core/migrationKit.ts).
 */
export function migrationScript(kit: MigrationKit): string {
  const comment = (text: string) => `# ${flattenForComment(text)}`;
  const lines = [
    "#!/usr/bin/env bash",
    comment(`Replace Batch pool ${kit.poolName} with ${kit.replacementPoolName} (Key Vault VM extension instead of account certificates).`),
    comment(kit.unavailable ? `${kit.unavailable}.` : `Body: ${kit.fileName} (api-version ${kit.apiVersion}); keep it in the folder you run this from.`),
    comment("Run it with bash; it stops with a message when something needs you, and `bash <this script> <step>` goes on from a step."),
    ...(kit.placeholders.length > 0 ? [comment("Fill in before running:"), ...kit.placeholders.map((p) => comment(`  ${p}`))] : []),
    ...(kit.warnings ?? []).map((w) => comment(`WARNING: ${w}.`)),
    ...kit.notes.map((n) => comment(`Note: ${n}.`)),
    "set -euo pipefail",
    ...kit.commands,
  ];
  return `${lines.join("\n")}\n`;
}

/** The script's file name: the body's, `.sh`. */
export function scriptFileName(kit: Pick<MigrationKit, "fileName">): string {
  return kit.fileName.replace(/\.json$/, ".sh");
}

/**
 * The name a file travels under as an email attachment. Communication Services Email refuses `.sh` attachments (not
 * among its supported file types, Learn "Email attachment file types"), so a script is sent as `.sh.txt`, text/plain.
 */
export function attachmentName(file: MigrationFile): string {
  return file.name.endsWith(".sh") ? `${file.name}.txt` : file.name;
}

/** Every kit's files for these findings, made one kit at a time, file names unique (kits already carry unique names within a run). */
export function* migrationFilesFor(findings: Iterable<Finding>): Generator<MigrationFile> {
  for (const f of findings) if (f.migration) yield* migrationFiles(f.migration);
}

/**
 * Attachments for a message about these findings, kept under MAX_ATTACHMENT_BYTES in total: a kit's files go together
 * (a body without its script, or the reverse, is no use) or not at all, and a kit that does not fit is skipped, not
 * the ones after it. The message says which kits are attached from `attachedKits` (body file names).
 */
export function migrationAttachments(findings: readonly Finding[]): { name: string; contentType: string; contentInBase64: string }[] {
  return kitAttachments(findings).attachments;
}

export function kitAttachments(findings: readonly Finding[]): { attachments: { name: string; contentType: string; contentInBase64: string }[]; attachedKits: Set<string> } {
  const attachments: { name: string; contentType: string; contentInBase64: string }[] = [];
  const attachedKits = new Set<string>();
  let bytes = 0;
  for (const f of findings) {
    const kit = f.migration;
    if (!kit || attachedKits.has(kit.fileName)) continue;
    const files = migrationFiles(kit).map((file) => ({ name: attachmentName(file), contentType: file.contentType, contentInBase64: Buffer.from(file.content, "utf8").toString("base64") }));
    const size = files.reduce((n, file) => n + file.contentInBase64.length, 0);
    if (bytes + size > MAX_ATTACHMENT_BYTES) continue;
    bytes += size;
    attachedKits.add(kit.fileName);
    attachments.push(...files);
  }
  return { attachments, attachedKits };
}
