/**
 * Processes waiting for another process's compute of a key, woken by that key's change event
 * or, failing that, after a short timeout.
 */
export class KeyWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves on the next change event of `key`, or after `ms`, whichever comes first. */
  next(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(key);
      if (set === undefined) {
        set = new Set();
        this.waiting.set(key, set);
      }
      const wakers = set;
      const wake = (): void => {
        clearTimeout(timer);
        wakers.delete(wake);
        if (wakers.size === 0 && this.waiting.get(key) === wakers) this.waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  }

  /** Wakes the waiters of one key (its change event arrived). */
  wake(key: string): void {
    const wakers = this.waiting.get(key);
    if (wakers) for (const wake of [...wakers]) wake();
  }

  /** Wakes every waiter (events may have been missed, or KCK is stopping). */
  wakeAll(): void {
    for (const wake of [...this.waiting.values()].flatMap((set) => [...set])) wake();
  }
}
