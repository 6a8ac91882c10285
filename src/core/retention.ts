// How long the ledger keeps what a run no longer needs, and how much of it a run lets go. Every run reads the ledger's
// finding states and reminder histories whole, so what is kept for ever makes each run's reads and memory grow with
// the months wherever pools come and go (a pool made per job gets its own finding, resolved once it is deleted).

/** Days after a resolution during which its all-clear may still go out (after a deferral, failure or dry run). */
export const ALL_CLEAR_WINDOW_DAYS = 30;

/**
 * A resolved finding's state is deleted this many days after its resolution (trackFindings), and a reminder history
 * this many days after it last moved, once its finding is neither open nor in the all-clear's window (sendReminders).
 * Nothing reads them later: the all-clear looks back ALL_CLEAR_WINDOW_DAYS, and a finding back after a resolution is
 * new whether its state is there or not. Three times the window leaves room for a run replayed for an earlier day
 * (--now) and a clock put right.
 */
export const KEPT_DAYS = 3 * ALL_CLEAR_WINDOW_DAYS;

/**
 * At most this many of each are deleted a run, the oldest first: about a second at Azure's target for an account
 * (20,000 entities a second), so the first run after a long time without deleting (a ledger of a year: 120,000 and
 * more at 100,000 accounts) does not spend the run's time on it. The rest goes on the next runs.
 */
export const FORGOTTEN_PER_RUN = 20_000;

/** The FORGOTTEN_PER_RUN oldest of `items`, by the day (YYYY-MM-DD) each was last of use. */
export function oldestToForget<T>(items: readonly T[], dayOf: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, day: dayOf(item) }))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
    .slice(0, FORGOTTEN_PER_RUN)
    .map((x) => x.item);
}
