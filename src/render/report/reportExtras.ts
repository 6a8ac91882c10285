// What the page shows besides the audit report itself: the run history and what was resolved since the last run.

export interface HistoryPoint {
  /** YYYY-MM-DD */
  date: string;
  open: number;
  critical: number;
  warning: number;
  /** Pools migrated to the Key Vault extension that day, when recorded. */
  migrated?: number;
}

export interface ResolvedFinding {
  findingId: string;
  kind: string;
  resourceId: string;
  accountName: string;
  resolvedOn: string;
}

export interface ReportExtras {
  history: HistoryPoint[];
  resolvedSinceLastRun: ResolvedFinding[];
  runId?: string;
}
