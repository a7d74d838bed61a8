import type { Queryable } from "../db/db.ts";
import { keyLockId } from "./locks.ts";
import { notifyEach } from "./notify.ts";

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
    free as (select key from picked where pg_try_advisory_xact_lock(${keyLockId("key")})),
    gone as (delete from kck.products p using free where p.key = free.key returning p.key, p.version)
    select count(*)::int as n from gone ${notifyEach("gone", "evict")}`;
}

/**
 * Evicts up to `batch` of a primer's products past their time: no value (failed, or
 * NOT_FOUND) and neither written nor read for `failureTtlMs`, or unread for `evictAfterMs`
 * (null: never). Returns how many went.
 */
export async function evictExpired(
  q: Queryable,
  primer: string,
  failureTtlMs: number,
  evictAfterMs: number | null,
  batch: number,
): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    deleting(`select p.key from kck.products p
      where p.primer = $1 and ${EVICTABLE} and (
        ((p.computed_at is null or p.not_found is not null)
          and greatest(p.updated_at, p.read_at) < now() - make_interval(secs => $2 / 1000.0))
        or ($3::float8 is not null and ${LAST_USED} < now() - make_interval(secs => $3 / 1000.0)))
      order by ${LAST_USED} limit ${Math.trunc(batch)} for update of p skip locked`),
    [primer, failureTtlMs, evictAfterMs],
  );
  return rows[0]?.n ?? 0;
}

/** Evicts up to `count` of a primer's least recently used products; how many went. */
export async function evictLeastUsed(q: Queryable, primer: string, count: number): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    deleting(`select p.key from kck.products p where p.primer = $1 and ${EVICTABLE}
      order by ${LAST_USED} limit $2 for update of p skip locked`),
    [primer, count],
  );
  return rows[0]?.n ?? 0;
}

/** How many products of a primer are stored. */
export async function countOfPrimer(q: Queryable, primer: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    "select count(*)::int as n from kck.products where primer = $1",
    [primer],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Pins products against eviction for six intervals of `everyMs` (only rows whose pin has less
 * than three left, so a key is written about every three intervals, not every one).
 */
export async function pinProducts(
  q: Queryable,
  keys: readonly string[],
  everyMs: number,
): Promise<void> {
  await q.query(
    `update kck.products set pinned_until = now() + make_interval(secs => $2 * 6 / 1000.0)
     where key = any($1::text[]) and (pinned_until is null
       or pinned_until < now() + make_interval(secs => $2 * 3 / 1000.0))`,
    [keys, everyMs],
  );
}
