// Starts tasks a bounded number at a time, round-robin over keys (subscriptions), each key with a bound of its own.
// Pure: no I/O, no clock.

/**
 * Tasks wait here as closures until there is room: at most `maxStarted` started and not finished, and at most
 * `maxPerKey` of those for one key, so a key whose tasks are slow (a throttled subscription) never holds all the
 * room. Keys take turns, one task per turn. Tasks must not reject (a rejection is kept and given by `idle()`).
 */
export class StartQueue {
  private readonly waiting = new Map<string, (() => Promise<void>)[]>();
  private readonly runningBy = new Map<string, number>();
  private running = 0;
  /** Keys with a waiting task and room of their own, in turn order. */
  private rotation: string[] = [];
  private head = 0;
  private readonly inRotation = new Set<string>();
  private idleWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly maxStarted: number,
    private readonly maxPerKey: number,
  ) {}

  add(key: string, task: () => Promise<void>): void {
    let queue = this.waiting.get(key);
    if (!queue) this.waiting.set(key, (queue = []));
    queue.push(task);
    this.enlist(key);
    this.pump();
  }

  /** Resolves when no task is waiting or running (at once when none was added); rejects with a task's rejection. */
  idle(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.idleWaiters.push({ resolve, reject });
      this.settleIdle();
    });
  }

  private enlist(key: string): void {
    if (this.inRotation.has(key) || !this.waiting.has(key) || (this.runningBy.get(key) ?? 0) >= this.maxPerKey) return;
    this.inRotation.add(key);
    this.rotation.push(key);
  }

  private pump(): void {
    while (this.running < this.maxStarted && this.head < this.rotation.length) {
      const key = this.rotation[this.head++] as string;
      this.inRotation.delete(key);
      const queue = this.waiting.get(key) as (() => Promise<void>)[];
      const task = queue.shift() as () => Promise<void>;
      if (queue.length === 0) this.waiting.delete(key);
      this.running++;
      this.runningBy.set(key, (this.runningBy.get(key) ?? 0) + 1);
      this.enlist(key);
      void Promise.resolve()
        .then(task)
        .catch((error: unknown) => {
          this.failure ??= { error };
        })
        .finally(() => {
          this.running--;
          const left = (this.runningBy.get(key) ?? 1) - 1;
          if (left > 0) this.runningBy.set(key, left);
          else this.runningBy.delete(key);
          this.enlist(key);
          this.pump();
          this.settleIdle();
        });
    }
    if (this.head > 1024 && this.head * 2 > this.rotation.length) {
      this.rotation = this.rotation.slice(this.head);
      this.head = 0;
    }
  }

  private settleIdle(): void {
    if (this.running > 0 || this.waiting.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) {
      if (this.failure) w.reject(this.failure.error);
      else w.resolve();
    }
  }
}
