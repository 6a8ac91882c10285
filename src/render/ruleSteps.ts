// What an owner reads about the retirement rules other than the certificate one (which has its own per-account plan
// and migration kit): each rule once per digest, with its deadline, its countdown and its steps, from the same rule
// record the report states (src/core/rules), so the digest and the report never disagree.
import { daysBetween } from "../core/dates.js";
import type { Finding, ReportRule } from "../core/model.js";
import { BUILT_IN_RULES } from "../core/rules/catalogue.js";
import { reportRules } from "../core/rules/ruleSet.js";
import { countdownPhrase, longDate, plural } from "./format.js";

const SHIPPED = reportRules(BUILT_IN_RULES);

export interface RuleBrief {
  id: string;
  title: string;
  /** The soonest deadline among the digest's items of this rule. */
  deadline: string;
  /** "39 days left", "240 days overdue". */
  countdown: string;
  /** "Date not confirmed by Azure", "date from Azure", "your organisation's date"; empty for a confirmed catalogue date. */
  dateNote: string;
  pools: number;
  steps: string[];
  guideUrl: string;
}

/** The rule a finding belongs to: its `rule`, else its kind (findings made before rules). */
export const ruleIdOf = (f: Pick<Finding, "rule" | "kind">): string => f.rule ?? f.kind;

/** Whether the certificate plan (accountPlan) already covers this finding. */
export const isCertificateFinding = (f: Pick<Finding, "kind">): boolean => f.kind === "account-certificate" || f.kind === "pool-certificate-reference";

/** The non-certificate rules among `findings`, each once, soonest deadline first. */
export function ruleBriefs(findings: readonly Finding[], asOf: string, rules: readonly ReportRule[] = SHIPPED): RuleBrief[] {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const briefs = new Map<string, RuleBrief>();
  for (const f of findings) {
    if (isCertificateFinding(f)) continue;
    const id = ruleIdOf(f);
    const rule = byId.get(id);
    const deadline = f.deadline ?? rule?.deadline ?? asOf;
    const note =
      f.deadlineSource === "azure"
        ? "date from Azure"
        : f.deadlineSource === "configuration"
          ? "your organisation's date"
          : f.deadlineConfirmed === false
            ? "date not confirmed by Azure"
            : "";
    const brief = briefs.get(id);
    if (brief) {
      brief.pools++;
      if (deadline < brief.deadline) Object.assign(brief, { deadline, countdown: countdownPhrase(daysBetween(asOf, deadline)), dateNote: note });
      continue;
    }
    briefs.set(id, {
      id,
      title: rule?.title ?? id,
      deadline,
      countdown: countdownPhrase(daysBetween(asOf, deadline)),
      dateNote: note,
      pools: 1,
      steps: rule?.steps ?? [],
      guideUrl: rule?.guideUrl ?? "",
    });
  }
  return [...briefs.values()].sort((a, b) => a.deadline.localeCompare(b.deadline) || a.id.localeCompare(b.id));
}

/** "Windows Server 2016 Marketplace images: 12 January 2027, 39 days left (date not confirmed by Azure), 2 pools". */
export function ruleHeadline(b: RuleBrief): string {
  return `${b.title}: ${longDate(b.deadline)}, ${b.countdown}${b.dateNote ? ` (${b.dateNote})` : ""}, ${plural(b.pools, "pool")}`;
}

/** The short note on one pool's item line: the rule and its countdown for that pool. */
export function ruleItemNote(f: Finding, asOf: string, rules: readonly ReportRule[] = SHIPPED): string {
  const rule = rules.find((r) => r.id === ruleIdOf(f));
  const deadline = f.deadline ?? rule?.deadline;
  return `${rule?.title ?? ruleIdOf(f)}${deadline ? `: ${countdownPhrase(daysBetween(asOf, deadline))} (${deadline})` : ""}`;
}
