import type { Queryable } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import { pinProducts } from "../sql/evict.ts";

/** What {@link Pins} needs. */
export interface PinsOptions {
  /** The keys with subscribers on this instance now. */
  keys: () => Iterable<string>;
  db: Queryable;
  log: Logger;
  /** How often the subscribed keys are pinned again, in ms. @default 10000 */
  everyMs?: number;
}

/**
 * Keeps the products this instance's subscribers watch out of eviction: every `everyMs` it
 * sets `pinned_until` of each subscribed key to six intervals ahead (only rows whose pin has
 * less than three left, so a key is written about every three intervals, not every one).
 * Eviction leaves pinned products alone; an instance that dies stops renewing, and its pins
 * run out by themselves.
 */
export class Pins {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private readonly everyMs: number;

  constructor(private readonly options: PinsOptions) {
    this.everyMs = options.everyMs ?? 10_000;
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.pin());
    }, this.everyMs);
    this.timer.unref();
  }

  /** Pins the subscribed keys now. */
  async pin(): Promise<void> {
    const keys = [...this.options.keys()];
    if (keys.length === 0) return;
    try {
      await pinProducts(this.options.db, keys, this.everyMs);
    } catch (error) {
      this.options.log.warn({ err: error, keys: keys.length }, "could not pin subscribed products");
    }
  }

  /** Stops pinning (the pins already written run out by themselves). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
