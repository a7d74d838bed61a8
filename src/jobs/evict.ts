import type { Queryable } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { countOfPrimer, evictExpired, evictLeastUsed } from "../sql/evict.ts";
import { addSingletonJob } from "../sql/jobs.ts";
import { TASK } from "./queue.ts";

/** The app-wide bounds on the store; a primer's `store` option overrides the first two. */
export interface StoreOptions {
  /**
   * The most products of one primer kept (KCK_STORE_MAX_PRODUCTS): past it, the least recently
   * read are evicted.
   * @default 1000000
   */
  maxProducts?: number;
  /**
   * Products not read for this long are evicted (KCK_STORE_EVICT_AFTER_MS); Infinity keeps them.
   * @default 604800000 (7 days)
   */
  evictAfterMs?: number;
  /**
   * Rows that hold no value (a compute that failed and never stored one, or a NOT_FOUND
   * version) go once neither written nor read for this long (KCK_STORE_FAILURE_TTL_MS).
   * @default 60000
   */
  failureTtlMs?: number;
  /** How often the eviction job runs (KCK_STORE_EVICT_INTERVAL_MS). @default 60000 */
  evictIntervalMs?: number;
}

/** The defaults of {@link StoreOptions}. */
export const DEFAULT_STORE: Required<StoreOptions> = {
  maxProducts: 1_000_000,
  evictAfterMs: 7 * 86_400_000,
  failureTtlMs: 60_000,
  evictIntervalMs: 60_000,
};

const EVICT_JOB_KEY = "kck:evict";
// Rows deleted per statement, and statements per primer per run: a run never holds many locks
// for long, and a store far past its bounds is brought back over a few runs.
const BATCH = 1000;
const MAX_BATCHES = 50;

/**
 * Asks for an eviction run now, unless one is waiting already (one across every process, by
 * its job key). Called on a timer by each process that runs a worker: the job lives only
 * while it waits and runs, so an idle queue stays empty.
 */
export async function requestEviction(q: Queryable): Promise<void> {
  await addSingletonJob(q, TASK.evict, EVICT_JOB_KEY);
}

/** How many products one eviction run removed, by primer (only primers that lost some). */
export type Evicted = Record<string, number>;

/**
 * One eviction run over the primers this process serves: rows without a value past the
 * failure TTL, products unread past their primer's `evictAfter`, then the least recently used
 * past its `maxProducts`. See src/sql/evict.ts for what is never taken.
 */
export async function evictProducts(
  q: Queryable,
  primers: Iterable<AnyPrimer>,
  options: StoreOptions = {},
): Promise<Evicted> {
  const store = { ...DEFAULT_STORE, ...options };
  const evicted: Evicted = {};
  for (const primer of primers) {
    const maxProducts = primer.store.maxProducts ?? store.maxProducts;
    const evictAfterMs = primer.store.evictAfterMs ?? store.evictAfterMs;
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const n = await evictExpired(
        q,
        primer.name,
        store.failureTtlMs,
        Number.isFinite(evictAfterMs) ? evictAfterMs : null,
        BATCH,
      );
      total += n;
      if (n < BATCH) break;
    }
    if (Number.isFinite(maxProducts)) {
      for (let batch = 0; batch < MAX_BATCHES; batch++) {
        const excess = (await countOfPrimer(q, primer.name)) - maxProducts;
        if (excess <= 0) break;
        const n = await evictLeastUsed(q, primer.name, Math.min(excess, BATCH));
        total += n;
        // Nothing more can go now (pinned, read by others, or being computed).
        if (n === 0) break;
      }
    }
    if (total > 0) evicted[primer.name] = total;
  }
  return evicted;
}

/** The eviction task: one run with this process's store options (none when they are off). */
export async function runEviction(
  q: Queryable,
  primers: Iterable<AnyPrimer>,
  options: StoreOptions | false,
  log: Logger,
): Promise<void> {
  if (options === false) return;
  const evicted = await evictProducts(q, primers, options);
  if (Object.keys(evicted).length > 0) log.info({ evicted }, "evicted products");
}
