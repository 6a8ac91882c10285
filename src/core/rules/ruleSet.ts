// Which rules a run uses: the shipped ones and RULES_FILE's, less RULES_DISABLED, with RULE_DEADLINES applied, and
// narrowed by a request's `rules` filter. Pure; config.ts validates the settings and reports every problem at once.
import { AuditError } from "../errors.js";
import type { Finding, ReportRule } from "../model.js";
import { BUILT_IN_RULES } from "./catalogue.js";
import type { RetirementRule } from "./rule.js";

export interface RuleSettings {
  /** Rule ids switched off. */
  disabled?: readonly string[];
  /** Rule id -> YYYY-MM-DD: an internal deadline (may be earlier than Azure's); wins over Azure's and the catalogue's. */
  deadlines?: Readonly<Record<string, string>>;
  /** Rules from RULES_FILE. */
  custom?: readonly RetirementRule[];
}

/** The ids a filter or setting may name: every shipped rule and every custom one. */
export function knownRuleIds(custom: readonly RetirementRule[] = []): string[] {
  return [...BUILT_IN_RULES, ...custom].map((r) => r.id);
}

/** Ids not in `known`, compared case-insensitively. */
export function unknownRuleIds(ids: readonly string[], known: readonly string[]): string[] {
  const set = new Set(known.map((k) => k.toLowerCase()));
  return ids.filter((id) => !set.has(id.toLowerCase()));
}

/** The enabled rules with their deadlines as configured. Throws INPUT.UNKNOWN_RULE for an id no rule has. */
export function resolveRules(settings: RuleSettings = {}): RetirementRule[] {
  const all = [...BUILT_IN_RULES, ...(settings.custom ?? [])];
  const known = all.map((r) => r.id);
  const unknown = unknownRuleIds([...(settings.disabled ?? []), ...Object.keys(settings.deadlines ?? {})], known);
  if (unknown.length > 0) throw unknownRules(unknown, known);
  const disabled = new Set((settings.disabled ?? []).map((id) => id.toLowerCase()));
  const overrides = new Map(Object.entries(settings.deadlines ?? {}).map(([id, date]) => [id.toLowerCase(), date]));
  return all
    .filter((rule) => !disabled.has(rule.id.toLowerCase()))
    .map((rule) => {
      const date = overrides.get(rule.id.toLowerCase());
      if (date === undefined) return rule;
      // Our own date: it replaces Azure's, the regional ones and the catalogue's, and needs no confirming.
      const { vmSizeEndOfLife: _azure, regionalDeadlines: _regional, ...rest } = rule;
      return { ...rest, deadline: date, deadlineSource: "configuration" as const, deadlineConfirmed: true };
    });
}

/** Only the rules a request asked for (`rules` filter); every rule when `ids` is empty or absent. */
export function selectRules(rules: readonly RetirementRule[], ids: readonly string[] | undefined): RetirementRule[] {
  if (!ids || ids.length === 0) return [...rules];
  const known = rules.map((r) => r.id);
  const unknown = unknownRuleIds(ids, known);
  if (unknown.length > 0) throw unknownRules(unknown, known);
  const wanted = new Set(ids.map((id) => id.toLowerCase()));
  return rules.filter((r) => wanted.has(r.id.toLowerCase()));
}

export function unknownRules(unknown: readonly string[], known: readonly string[]): AuditError {
  return new AuditError("INPUT.UNKNOWN_RULE", `Unknown rule ${unknown.map((id) => JSON.stringify(id)).join(", ")}; the rules are: ${known.join(", ")}`, { retryable: false });
}

/** What the report says of each rule, soonest deadline first. */
export function reportRules(rules: readonly RetirementRule[]): ReportRule[] {
  return [...rules]
    .sort((a, b) => a.deadline.localeCompare(b.deadline) || a.id.localeCompare(b.id))
    .map((r) => ({
      id: r.id,
      title: r.title,
      deadline: r.deadline,
      deadlineSource: r.deadlineSource ?? "catalogue",
      deadlineConfirmed: r.deadlineConfirmed,
      ...(r.milestones ? { milestones: r.milestones } : {}),
      severity: r.severity,
      steps: r.steps,
      guideUrl: r.guideUrl,
      sources: r.sources,
      ...(r.custom ? { custom: true } : {}),
    }));
}

/** Open findings per rule id: every rule in `rules` (0 when it found nothing), and any other rule a finding names. */
export function countByRule(findings: readonly Pick<Finding, "rule" | "kind">[], rules: readonly Pick<RetirementRule, "id">[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(rules.map((r) => [r.id, 0]));
  for (const f of findings) {
    const id = f.rule ?? f.kind;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}
