import type { Queryable } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
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
  await q.query(
    `select graphile_worker.add_job($1, '{}'::json, job_key => $2,
       job_key_mode => 'preserve_run_at', max_attempts => 1)`,
    [TASK.evict, EVICT_JOB_KEY],
  );
}

// What no eviction may take: a product pinned by an instance's subscribers, or one that another
// stored product read (its dependents go first; taking it would leave them with an edge to
// nothing, and a change to its source would reach nobody, since a missing product is not
// refreshed). The compute lock is tried last, per row, in the deleting transaction: a product
// being computed keeps its row, and no compute of a row being deleted starts until the commit.
const EVICTABLE = `(p.pinned_until is null or p.pinned_until <= now())
  and not exists (select 1 from kck.dependencies d where d.dependency = p.key)`;
const LAST_USED = "coalesce(p.read_at, p.computed_at, p.updated_at)";

/** Deletes the picked keys that no compute holds, with one change event each; how many went. */
function deleting(picked: string): string {
  return `with picked as (${picked}),
    free as (select key from picked where pg_try_advisory_xact_lock(hashtextextended(key, 0))),
    gone as (delete from kck.products p using free where p.key = free.key returning p.key, p.version)
    select count(*)::int as n from gone cross join lateral (select pg_notify('kck_events',
      json_build_object('k', gone.key, 'v', gone.version, 'op', 'evict', 'c', false,
        't', (extract(epoch from clock_timestamp()) * 1000)::bigint)::text)) as notified`;
}

/** Evicts one batch of a primer's products past their time (no value too long, or unread). */
async function evictExpired(
  q: Queryable,
  primer: string,
  failureTtlMs: number,
  evictAfterMs: number | null,
): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    deleting(`select p.key from kck.products p
      where p.primer = $1 and ${EVICTABLE} and (
        ((p.computed_at is null or p.not_found is not null)
          and greatest(p.updated_at, p.read_at) < now() - make_interval(secs => $2 / 1000.0))
        or ($3::float8 is not null and ${LAST_USED} < now() - make_interval(secs => $3 / 1000.0)))
      order by ${LAST_USED} limit ${BATCH} for update of p skip locked`),
    [primer, failureTtlMs, evictAfterMs],
  );
  return rows[0]?.n ?? 0;
}

/** Evicts up to `count` of a primer's least recently used products. */
async function evictLeastUsed(q: Queryable, primer: string, count: number): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    deleting(`select p.key from kck.products p where p.primer = $1 and ${EVICTABLE}
      order by ${LAST_USED} limit $2 for update of p skip locked`),
    [primer, Math.min(count, BATCH)],
  );
  return rows[0]?.n ?? 0;
}

async function countOf(q: Queryable, primer: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    "select count(*)::int as n from kck.products where primer = $1",
    [primer],
  );
  return rows[0]?.n ?? 0;
}

/** How many products one eviction run removed, by primer (only primers that lost some). */
export type Evicted = Record<string, number>;

/**
 * One eviction run over the primers this process serves: rows without a value past the
 * failure TTL, products unread past their primer's `evictAfter`, then the least recently used
 * past its `maxProducts`. See {@link EVICTABLE} for what is never taken.
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
      );
      total += n;
      if (n < BATCH) break;
    }
    if (Number.isFinite(maxProducts)) {
      for (let batch = 0; batch < MAX_BATCHES; batch++) {
        const excess = (await countOf(q, primer.name)) - maxProducts;
        if (excess <= 0) break;
        const n = await evictLeastUsed(q, primer.name, excess);
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
