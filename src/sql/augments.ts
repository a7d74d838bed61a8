import type { Queryable } from "../db/db.ts";
import { keyLockId } from "./locks.ts";
import { notifyEach } from "./notify.ts";
import { COLUMNS, type StoredProduct } from "./products.ts";

/**
 * Takes a key's lock for the rest of the transaction, then its row lock, and reads the row,
 * in one statement. The key's lock is the one a compute holds (as a session lock) from before
 * it reads its data until it has stored its value, so an augment never interleaves with a
 * compute of the same key (which would store a value read before the delta, and lose it).
 * Waits for both locks; a missing row takes neither.
 */
export async function lockAndRead(q: Queryable, key: string): Promise<StoredProduct | undefined> {
  // FOR UPDATE returns the row's latest committed version even when a compute stored a new
  // one while this statement waited for the key's lock.
  const { rows } = await q.query<StoredProduct>(
    `with l as materialized (select pg_advisory_xact_lock(${keyLockId("$1")}))
     select ${COLUMNS} from kck.products p, l where p.key = $1 for update of p`,
    [key],
  );
  return rows[0];
}

/**
 * The same without waiting for the key's lock: `locked` is false when another session holds
 * it (a compute, or another augment), and then nothing is read or locked.
 */
export async function tryLockAndRead(
  q: Queryable,
  key: string,
): Promise<{ locked: boolean; product: StoredProduct | undefined }> {
  const { rows } = await q.query<StoredProduct & { locked: boolean }>(
    `with l as materialized (select pg_try_advisory_xact_lock(${keyLockId("$1")}) as locked)
     select l.locked, p.* from l left join lateral (
       select ${COLUMNS} from kck.products where key = $1 and l.locked for update
     ) as p on true`,
    [key],
  );
  const { locked, ...product } = rows[0] as StoredProduct & { locked: boolean };
  return { locked, product: product.key === null ? undefined : product };
}

// The row without its value: the writer has the value already, and it may be large.
const WITHOUT_VALUE = COLUMNS.replace(/\bvalue,/, "null::jsonb as value,");

/** An augmented value to store over a locked row. */
export interface AugmentedWrite {
  key: string;
  /** The new value as JSON text. */
  json: string;
  hash: string;
  /** How much the version grows: 0 when the hash is the stored one (nothing changes then). */
  versions: number;
  /** How many deltas were applied. */
  augments: number;
}

/**
 * Stores an augmented value and queues its change event (op "augment"), and returns the
 * product (its value left out: the caller has it) with the keys that depend on it, in one
 * statement.
 */
export async function writeAugmented(
  q: Queryable,
  w: AugmentedWrite,
): Promise<{ product: StoredProduct; dependents: string[] }> {
  const { rows } = await q.query<StoredProduct & { dependents: string[] }>(
    `with up as (
       update kck.products set
         value = case when $4::int > 0 then $2::jsonb else value end,
         version = version + $4::int, hash = $3,
         changed_by = case when $4::int > 0 then pg_current_xact_id() else changed_by end,
         augment_count = augment_count + $5::int, last_augmented_at = now(), updated_at = now()
       where key = $1
       returning ${WITHOUT_VALUE}
     )
     select up.*, coalesce((select array_agg(d.dependent order by d.dependent)
       from kck.dependencies d where d.dependency = up.key), '{}') as dependents
     from up ${notifyEach("up", "augment", "$4::int > 0")}`,
    [w.key, w.json, w.hash, w.versions, w.augments],
  );
  const { dependents, ...product } = rows[0] as StoredProduct & { dependents: string[] };
  return { product, dependents };
}

/**
 * The idempotency keys among `requests` that already augmented `product`, each with the
 * version it made. Called under the product's lock, so no other augment of it can be adding one.
 */
export async function appliedRequests(
  q: Queryable,
  product: string,
  requests: readonly string[],
): Promise<Map<string, number>> {
  if (requests.length === 0) return new Map();
  const { rows } = await q.query<{ request: string; version: number }>(
    "select request, version from kck.augment_requests where product = $1 and request = any($2)",
    [product, requests],
    "kck_applied_requests",
  );
  return new Map(rows.map((row) => [row.request, row.version]));
}

/**
 * Records the idempotency keys of augments just applied to `product`, in their transaction,
 * and lets the product's records older than a day go.
 */
export async function recordRequests(
  q: Queryable,
  product: string,
  applied: readonly { request: string; version: number }[],
): Promise<void> {
  if (applied.length === 0) return;
  await q.query(
    `with old as (
       delete from kck.augment_requests
       where product = $1 and created_at < now() - interval '1 day'
     )
     insert into kck.augment_requests (product, request, version)
     select $1, r, v from unnest($2::text[], $3::int[]) as t(r, v)`,
    [product, applied.map((a) => a.request), applied.map((a) => a.version)],
    "kck_record_requests",
  );
}
