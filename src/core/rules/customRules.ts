// Rules a platform team adds in a JSON file (RULES_FILE): the same record as a shipped rule, with its detector in the
// condition form of condition.ts. Nothing in the file is run as code. Validated with zod; every problem is named by
// its JSON pointer, so a bad file is fixed in one go.
import { z } from "zod";
import { isIsoDay } from "../dates.js";
import { conditionSchema } from "./condition.js";
import type { RetirementRule } from "./rule.js";

const httpsUrl = z.url({ protocol: /^https$/, message: "must be an https:// URL" });

const customRuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, "must be 1-63 lower-case letters, digits, dots and dashes"),
  title: z.string().trim().min(1).max(200),
  deadline: z.string().refine(isIsoDay, "must be a date as YYYY-MM-DD"),
  deadlineConfirmed: z.boolean().default(true),
  severity: z.enum(["critical", "warning"]).default("warning"),
  when: conditionSchema,
  steps: z.array(z.string().trim().min(1).max(1000)).min(1),
  guideUrl: httpsUrl,
  sources: z.array(httpsUrl).default([]),
});

const fileSchema = z.strictObject({ rules: z.array(customRuleSchema) });

/** The file's rules, or every problem as `<json pointer>: <message>`. `taken`: ids no custom rule may reuse. */
export function parseCustomRules(document: unknown, taken: readonly string[]): { rules: RetirementRule[] } | { problems: string[] } {
  const parsed = fileSchema.safeParse(document);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${jsonPointer(i.path)}: ${i.message}`) };
  const problems: string[] = [];
  const seen = new Set(taken.map((id) => id.toLowerCase()));
  parsed.data.rules.forEach((rule, i) => {
    if (seen.has(rule.id)) problems.push(`${jsonPointer(["rules", i, "id"])}: "${rule.id}" is already a rule id`);
    seen.add(rule.id);
  });
  if (problems.length > 0) return { problems };
  return {
    rules: parsed.data.rules.map((r) => ({
      id: r.id,
      title: r.title,
      deadline: r.deadline,
      deadlineSource: "configuration" as const,
      deadlineConfirmed: r.deadlineConfirmed,
      severity: r.severity,
      target: "pool" as const,
      when: r.when,
      steps: r.steps,
      guideUrl: r.guideUrl,
      sources: r.sources.length > 0 ? r.sources : [r.guideUrl],
      custom: true,
    })),
  };
}

/** RFC 6901: `/rules/0/when/all/1/fact`; the whole document is the empty string, shown as `/`. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "/";
  return path.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}
