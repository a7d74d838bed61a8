import type { Queryable } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import { markRead } from "../sql/reads.ts";

const MAX_RETRIES = 5;

/**
 * Records when products were read, cheaply: keys read are collected in memory and written in
 * one UPDATE per interval, and a row already marked within that interval is not written again.
 * Schedules with `readWithin` pick products by this time.
 */
export class ReadTracker {
  private pending = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly q: Queryable,
    private readonly log: Logger,
    private readonly flushMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /** Notes that these canonical keys were read just now. */
  note(keys: Iterable<string>): void {
    for (const key of keys) this.pending.add(key);
  }

  /** Writes the read times noted so far. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /** Writes what is pending and stops the timer. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const keys = [...this.pending];
    this.pending = new Set();
    try {
      const missing = await markRead(this.q, keys, this.flushMs);
      // A first read is noted before its compute stores the row: try again next time, a few
      // times (a compute that keeps failing stores nothing to mark).
      for (const key of missing) {
        const tries = (this.retries.get(key) ?? 0) + 1;
        if (tries > MAX_RETRIES) {
          this.retries.delete(key);
          continue;
        }
        this.retries.set(key, tries);
        this.pending.add(key);
      }
      for (const key of keys) if (!this.pending.has(key)) this.retries.delete(key);
    } catch (error) {
      this.log.warn({ err: error, keys: keys.length }, "could not record read times");
    }
  }
}
