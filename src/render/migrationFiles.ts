// The migration kit as files: per pool, the replacement pool's PUT body (`az rest --body @<file>`) and a shell
// script of the steps with the notes as comments. The CLI writes them under <out>/migrations/; owners' digests carry
// them as attachments; the report page links to the body.
import type { Finding, MigrationKit } from "../core/model.js";

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
  files.push({ name: kit.fileName.replace(/\.json$/, ".sh"), contentType: "text/plain", content: migrationScript(kit) });
  return files;
}

export function migrationScript(kit: MigrationKit): string {
  const lines = [
    "#!/bin/sh",
    `# Replace Batch pool ${kit.poolName} with ${kit.replacementPoolName} (Key Vault VM extension instead of account certificates).`,
    ...(kit.unavailable ? [`# ${kit.unavailable}.`] : [`# Body: ${kit.fileName} (api-version ${kit.apiVersion}).`]),
    ...(kit.placeholders.length > 0 ? ["# Fill in before running:", ...kit.placeholders.map((p) => `#   ${p}`)] : []),
    ...kit.notes.map((n) => `# Note: ${n}.`),
    "set -e",
    ...kit.commands,
  ];
  return `${lines.join("\n")}\n`;
}

/** Every kit's files for these findings, file names unique (kits already carry unique names within a run). */
export function migrationFilesFor(findings: readonly Finding[]): MigrationFile[] {
  return findings.flatMap((f) => (f.migration ? migrationFiles(f.migration) : []));
}

/** Attachments for a message about these findings, kept under MAX_ATTACHMENT_BYTES in total. */
export function migrationAttachments(findings: readonly Finding[]): { name: string; contentType: string; contentInBase64: string }[] {
  const attachments: { name: string; contentType: string; contentInBase64: string }[] = [];
  let bytes = 0;
  const seen = new Set<string>();
  for (const file of migrationFilesFor(findings)) {
    if (seen.has(file.name)) continue;
    const encoded = Buffer.from(file.content, "utf8").toString("base64");
    if (bytes + encoded.length > MAX_ATTACHMENT_BYTES) break;
    seen.add(file.name);
    bytes += encoded.length;
    attachments.push({ name: file.name, contentType: file.contentType, contentInBase64: encoded });
  }
  return attachments;
}
