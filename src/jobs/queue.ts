import type { Queryable } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import {
  addKeyJob,
  enqueuePrimeJobs,
  enqueueRefreshJobs,
  enqueueScheduledJobs,
} from "../sql/jobs.ts";

/** The graphile-worker task names KCK uses. */
export const TASK = {
  /** Recompute one product, whatever its freshness. Payload `{ key }`. */
  refresh: "kck_refresh",
  /** Compute one product unless it is fresh. Payload `{ key }`. */
  prime: "kck_prime",
  /** Refresh or invalidate the dependents of a product whose value changed. Payload `{ key }`. */
  propagate: "kck_propagate",
  /** Pick a primer's products for a scheduled refresh. Payload `{ primer }`. */
  schedule: "kck_schedule",
  /** Evict products past the store's bounds (src/jobs/evict.ts). Payload `{}`. */
  evict: "kck_evict",
} as const;

/** Every KCK task name. */
export const TASK_NAMES: readonly string[] = Object.values(TASK);

/** The job key of a product's refresh: one pending refresh per product, however many reasons. */
export const refreshJobKey = (key: string): string => `kck:refresh:${key}`;
/** The job key of a product's prime. */
export const primeJobKey = (key: string): string => `kck:prime:${key}`;

const CHUNK = 1000;

/** The primer of a canonical key (its first segment), if this instance serves it. */
export function primerOf(
  primers: ReadonlyMap<string, AnyPrimer>,
  key: string,
): AnyPrimer | undefined {
  const slash = key.indexOf("/");
  return primers.get(slash === -1 ? key : key.slice(0, slash));
}

/** Groups canonical keys by their primer; keys of unknown primers are dropped. */
function byPrimer(
  primers: ReadonlyMap<string, AnyPrimer>,
  keys: Iterable<string>,
): Map<AnyPrimer, string[]> {
  const groups = new Map<AnyPrimer, string[]>();
  for (const key of new Set(keys)) {
    const primer = primerOf(primers, key);
    if (primer === undefined) continue;
    const group = groups.get(primer);
    if (group) group.push(key);
    else groups.set(primer, [key]);
  }
  return groups;
}

async function inChunks(keys: readonly string[], fn: (chunk: string[]) => Promise<unknown>) {
  for (let i = 0; i < keys.length; i += CHUNK) await fn(keys.slice(i, i + CHUNK));
}

/**
 * Adds forced-refresh jobs for canonical keys after a change, each with its primer's delay and
 * attempts; a job already running gets a successor, since the change may have come too late
 * for it.
 */
export async function enqueueRefreshes(
  q: Queryable,
  primers: ReadonlyMap<string, AnyPrimer>,
  keys: Iterable<string>,
): Promise<void> {
  for (const [primer, group] of byPrimer(primers, keys)) {
    await inChunks(group, (chunk) =>
      enqueueRefreshJobs(q, chunk, primer.policies.delayMs, primer.policies.maxAttempts),
    );
  }
}

/**
 * Adds forced-refresh jobs for a schedule tick, now, for keys that have no refresh job
 * waiting, running or backing off (a tick brings no news).
 */
export async function enqueueScheduled(
  q: Queryable,
  primers: ReadonlyMap<string, AnyPrimer>,
  keys: Iterable<string>,
): Promise<void> {
  for (const [primer, group] of byPrimer(primers, keys)) {
    await inChunks(group, (chunk) => enqueueScheduledJobs(q, chunk, primer.policies.maxAttempts));
  }
}

/** Adds prime jobs (compute unless fresh) for canonical keys. */
export async function enqueuePrimes(
  q: Queryable,
  primers: ReadonlyMap<string, AnyPrimer>,
  keys: Iterable<string>,
): Promise<void> {
  for (const [primer, group] of byPrimer(primers, keys)) {
    await inChunks(group, (chunk) => enqueuePrimeJobs(q, chunk, primer.policies.maxAttempts));
  }
}

/** Adds a propagation job for a product whose dependents must follow it. */
export async function enqueuePropagation(q: Queryable, key: string): Promise<void> {
  await addKeyJob(q, TASK.propagate, key, `kck:propagate:${key}`);
}

/**
 * Primes keys in the background with in-process deduplication: keys asked for within
 * `dedupeMs` of their last enqueue are skipped, and the keys of one tick go in one statement.
 * Across processes the job key deduplicates.
 */
export class PrimeBatcher {
  private readonly pending = new Set<string>();
  private readonly recent = new Map<string, number>();
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly q: Queryable,
    private readonly primers: ReadonlyMap<string, AnyPrimer>,
    private readonly log: Logger,
    private readonly dedupeMs: number,
  ) {}

  /** Asks for a key to be primed soon. */
  add(key: string): void {
    const last = this.recent.get(key);
    if (last !== undefined && Date.now() - last < this.dedupeMs) return;
    this.pending.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flushing.then(() => this.flush());
    });
  }

  /** Waits until every key asked for so far is enqueued. */
  async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await this.flushing;
  }

  private async flush(): Promise<void> {
    const keys = [...this.pending];
    this.pending.clear();
    if (keys.length === 0) return;
    const now = Date.now();
    for (const [key, at] of this.recent) if (now - at >= this.dedupeMs) this.recent.delete(key);
    for (const key of keys) this.recent.set(key, now);
    try {
      await enqueuePrimes(this.q, this.primers, keys);
    } catch (error) {
      for (const key of keys) this.recent.delete(key);
      this.log.warn({ err: error, keys: keys.length }, "could not enqueue background refreshes");
    }
  }
}
