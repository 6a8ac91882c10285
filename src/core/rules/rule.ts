// A retirement rule is a record: what retires and when, where that date comes from, how to tell a pool is affected
// (a condition over its facts, src/core/rules/condition.ts), what the owner does about it, and where to read more.
// The engine (src/core/rules/evaluate.ts) knows no rule by name; the digest, report and kit read the same record.
import type { DeadlineSource, Severity } from "../model.js";
import type { KitContext, KitPlan } from "../migrationKit.js";
import type { Condition } from "./condition.js";

export type { KitContext, KitPlan };

/**
 * A migration-kit builder: a plan that notes every finding of the audit, then gives its rule's findings their kits one
 * at a time, in the report's order (the certificate rule's is src/core/migrationKit.ts).
 */
export type KitBuilder = () => KitPlan;

export interface RetirementRule {
  /** Stable id, lower-case words joined by `-` (finding ids start with it). */
  id: string;
  title: string;
  /** YYYY-MM-DD: the day Batch (or the VM platform) stops supporting what the rule finds. */
  deadline: string;
  /** Where `deadline` came from: the catalogue (default), or configuration (a custom rule, RULE_DEADLINES). */
  deadlineSource?: DeadlineSource;
  /** False where no Batch source confirms the date (the catalogue's best reading): the output says so. */
  deadlineConfirmed: boolean;
  /** Earlier dates Azure gives (e.g. reservations end, no new pools), oldest first. */
  milestones?: { date: string; what: string }[];
  /** Region-dependent dates (lower-cased ARM location -> YYYY-MM-DD), e.g. NCv3 in US Gov regions. */
  regionalDeadlines?: Readonly<Record<string, string>>;
  /** A VM-size rule: Azure's `batchSupportEndOfLife` for the pool's size and region, when read, wins over `deadline`. */
  vmSizeEndOfLife?: boolean;
  severity: Severity;
  /**
   * `pool`: one finding per pool the condition holds for. `account-certificate`: one finding per certificate an
   * account holds (the certificate retirement; its detector is the certificate list itself).
   */
  target: "pool" | "account-certificate";
  /** Pool rules: when the pool is affected. */
  when?: Condition;
  /** What the owner does, in order; shown once per rule in a digest. */
  steps: string[];
  guideUrl: string;
  /** Where the date and the detector come from (URLs). */
  sources: string[];
  /** Adds migration kits to this rule's findings. */
  kit?: KitBuilder;
  /** From RULES_FILE. */
  custom?: boolean;
}

/** A rule's date for one finding, and where it came from. */
export interface FindingDeadline {
  date: string;
  source: DeadlineSource;
  confirmed: boolean;
}

/** Azure's `batchSupportEndOfLife` per region: lower-cased location -> (lower-cased VM size -> YYYY-MM-DD). */
export type VmSizeEndOfLife = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** An ARM location as the date tables key it: lower-cased, no spaces ("West Europe" and "westeurope" alike). */
export function regionKey(location: string): string {
  return location.toLowerCase().replace(/\s+/g, "");
}

/** The deadline of `rule` for a pool of size `vmSize` in `location`: Azure's when read, else regional, else the rule's. */
export function deadlineFor(rule: RetirementRule, location: string | undefined, vmSize: string | null | undefined, azure: VmSizeEndOfLife | undefined): FindingDeadline {
  const region = location === undefined ? undefined : regionKey(location);
  if (rule.vmSizeEndOfLife && region !== undefined && typeof vmSize === "string") {
    const date = azure?.get(region)?.get(vmSize.toLowerCase());
    if (date !== undefined) return { date, source: "azure", confirmed: true };
  }
  const regional = region === undefined ? undefined : rule.regionalDeadlines?.[region];
  if (regional !== undefined) return { date: regional, source: "catalogue", confirmed: rule.deadlineConfirmed };
  return { date: rule.deadline, source: rule.deadlineSource ?? "catalogue", confirmed: rule.deadlineConfirmed };
}
