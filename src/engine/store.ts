import type { Queryable } from "../db/db.ts";
import { canonicalJson } from "./canonical-json.ts";
import type { StoredProduct } from "./product.ts";

/** The NOTIFY channel that carries change events. */
export const EVENTS_CHANNEL = "kck_events";

/** What happened to a product, as carried by a change event. */
export type ChangeOp = "compute" | "invalidate" | "augment" | "evict";

/** A change event: small on purpose (a NOTIFY payload must stay under 8000 bytes). */
export interface ChangeEvent {
  /** The product's key. */
  k: string;
  /** Its version after the change. */
  v: number;
  op: ChangeOp;
  /** Whether the value changed (false: only its freshness moved). */
  c: boolean;
  /** When the database wrote the event, in ms since the epoch (to measure delivery lag). */
  t?: number;
}

/**
 * The `t` of a change event in SQL: the database's clock when the statement runs, in ms.
 * Receivers subtract it from their own (the lag metric); every pg_notify on the channel sends it.
 */
export const EVENT_TIME = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** The select list that reads a row of kck.products as a {@link StoredProduct}. */
export const COLUMNS = `key, primer, params, value, version, hash,
  computed_at as "computedAt", fresh_until as "freshUntil", stale_until as "staleUntil",
  compute_count as "computeCount", last_compute_ms as "lastComputeMs",
  last_error as "lastError", last_error_at as "lastErrorAt", error_count as "errorCount",
  augment_count as "augmentCount", last_augmented_at as "lastAugmentedAt",
  invalidations, not_found as "notFound", code_version as "codeVersion"`;

/** Reads the stored products for many keys in one statement. */
export async function readProducts(
  q: Queryable,
  keys: readonly string[],
): Promise<Map<string, StoredProduct>> {
  const { rows } = await q.query<StoredProduct>(
    `select ${COLUMNS} from kck.products where key = any($1)`,
    [keys],
    "kck_read_products",
  );
  return new Map(rows.map((row) => [row.key, row]));
}

/** Reads one stored product. */
export async function readProduct(q: Queryable, key: string): Promise<StoredProduct | undefined> {
  const { rows } = await q.query<StoredProduct>(
    `select ${COLUMNS} from kck.products where key = $1`,
    [key],
    "kck_read_product",
  );
  return rows[0];
}

/** A computed value to store. */
export interface ComputedWrite {
  key: string;
  primer: string;
  params: Readonly<Record<string, unknown>>;
  /** The value as JSON text. */
  json: string;
  hash: string;
  freshUntil: Date | null;
  staleUntil: Date | null;
  computeMs: number;
  /** Every product the compute read: the new, complete set of its dependency edges. */
  dependencies: readonly string[];
  /**
   * The product's invalidation count when the compute took its lock (0 for a new product): a
   * higher one at the write means it was invalidated meanwhile, and the value is stored expired.
   */
  invalidations: number;
  /** Set when the compute said the product does not exist: the message for its readers. */
  notFound?: string | null;
  /** The version of the primer code that computed it. */
  codeVersion?: string | undefined;
}

/**
 * Stores a computed value, its dependency edges and its change event in one statement (so one
 * transaction). The version grows only when the hash differs from the stored one.
 */
export async function writeComputed(
  q: Queryable,
  w: ComputedWrite,
): Promise<{ product: StoredProduct; changed: boolean }> {
  const { rows } = await q.query<StoredProduct & { changed: boolean }>(
    `with old as (select hash from kck.products where key = $1),
     up as (
       insert into kck.products as p (key, primer, params, value, hash, version, computed_at,
         fresh_until, stale_until, compute_count, last_compute_ms, changed_by, not_found,
         code_version)
       values ($1, $2, $3, $4::jsonb, $5, 1, now(), $6, $7, 1, $8, pg_current_xact_id(), $11, $12)
       on conflict (key) do update set
         value = case when p.hash is distinct from excluded.hash then excluded.value else p.value end,
         version = p.version + (p.hash is distinct from excluded.hash)::int,
         changed_by = case when p.hash is distinct from excluded.hash
           then excluded.changed_by else p.changed_by end,
         hash = excluded.hash, computed_at = now(),
         fresh_until = case when p.invalidations > $10 then now() else excluded.fresh_until end,
         stale_until = case when p.invalidations > $10 then now() else excluded.stale_until end,
         compute_count = p.compute_count + 1,
         last_compute_ms = excluded.last_compute_ms, last_error = null, updated_at = now(),
         not_found = excluded.not_found, code_version = excluded.code_version
       returning ${COLUMNS}
     ),
     dropped as (
       delete from kck.dependencies where dependent = $1 and dependency <> all($9::text[])
     ),
     added as (
       insert into kck.dependencies (dependent, dependency)
       select $1, d from unnest($9::text[]) as d on conflict do nothing
     )
     select up.*, n.changed from up
     cross join lateral (select (select hash from old) is distinct from $5 as changed) as n
     cross join lateral (select pg_notify('${EVENTS_CHANNEL}', json_build_object('k', up.key,
       'v', up.version, 'op', 'compute', 'c', n.changed, 't', ${EVENT_TIME})::text)) as notified`,
    [
      w.key,
      w.primer,
      canonicalJson(w.params),
      w.json,
      w.hash,
      w.freshUntil,
      w.staleUntil,
      w.computeMs,
      w.dependencies,
      w.invalidations,
      w.notFound ?? null,
      w.codeVersion ?? null,
    ],
    "kck_write_computed",
  );
  const { changed, ...product } = rows[0] as StoredProduct & { changed: boolean };
  return { product, changed };
}

/** Records a failed compute: the last good value, if any, stays. */
export async function writeFailure(
  q: Queryable,
  w: {
    key: string;
    primer: string;
    params: Readonly<Record<string, unknown>>;
    error: string;
    computeMs: number;
  },
): Promise<void> {
  await q.query(
    `insert into kck.products as p (key, primer, params, last_error, last_error_at, error_count, last_compute_ms)
     values ($1, $2, $3, $4, now(), 1, $5)
     on conflict (key) do update set last_error = excluded.last_error, last_error_at = now(),
       error_count = p.error_count + 1, last_compute_ms = excluded.last_compute_ms, updated_at = now()`,
    [w.key, w.primer, canonicalJson(w.params), w.error, w.computeMs],
  );
}

/** Marks a product expired, so that its next read recomputes it. */
export async function expireProduct(q: Queryable, key: string): Promise<StoredProduct | undefined> {
  const { rows } = await q.query<StoredProduct>(
    `with up as (
       update kck.products set fresh_until = now(), stale_until = now(), updated_at = now(),
         invalidations = invalidations + 1
       where key = $1 returning ${COLUMNS}
     )
     select up.* from up cross join lateral (select pg_notify('${EVENTS_CHANNEL}',
       json_build_object('k', up.key, 'v', up.version, 'op', 'invalidate', 'c', false, 't', ${EVENT_TIME})::text)) as n`,
    [key],
  );
  return rows[0];
}

/** The keys a product read when it was last computed, and the keys that read it. */
export async function readEdges(
  q: Queryable,
  key: string,
): Promise<{ dependencies: string[]; dependents: string[] }> {
  const { rows } = await q.query<{ dependencies: string[]; dependents: string[] }>(
    `select
       coalesce((select array_agg(dependency order by dependency) from kck.dependencies where dependent = $1), '{}') as dependencies,
       coalesce((select array_agg(dependent order by dependent) from kck.dependencies where dependency = $1), '{}') as dependents`,
    [key],
  );
  return rows[0] ?? { dependencies: [], dependents: [] };
}

/**
 * Takes the cross-process compute lock of a key without waiting. Session-level, so that a
 * process that dies mid-compute releases it with its connection.
 */
export async function tryLock(q: Queryable, key: string): Promise<boolean> {
  const { rows } = await q.query<{ locked: boolean }>(
    "select pg_try_advisory_lock(hashtextextended($1, 0)) as locked",
    [key],
    "kck_try_lock",
  );
  return rows[0]?.locked === true;
}

/** A lock attempt and the row it read, as the two plpgsql functions of migration 000005 give. */
async function lockingRead(
  q: Queryable,
  fn: "lock_and_read" | "read_or_lock",
  key: string,
): Promise<{ locked: boolean; product: StoredProduct | undefined }> {
  const { rows } = await q.query<StoredProduct & { locked: boolean }>(
    `select l.locked, ${COLUMNS} from kck.${fn}($1) as l
     cross join lateral (select (l.product).*) as p`,
    [key],
    `kck_${fn}`,
  );
  const { locked, ...product } = rows[0] as StoredProduct & { locked: boolean };
  return { locked, product: product.key === null ? undefined : product };
}

/**
 * Takes the cross-process compute lock of a key without waiting, as {@link tryLock} does, and
 * when it is taken reads the key's row in the same round trip, in a snapshot taken after the
 * lock (so it holds every value committed by whoever held the lock before). `product` is
 * undefined when the lock was not taken or the key was never stored.
 */
export function tryLockThenRead(
  q: Queryable,
  key: string,
): Promise<{ locked: boolean; product: StoredProduct | undefined }> {
  return lockingRead(q, "lock_and_read", key);
}

/**
 * Reads a key's row, and when it holds nothing to serve (missing, failed only, or expired by
 * the database's clock) also tries the key's compute lock and, if taken, reads the row again
 * after it, as {@link tryLockThenRead} does: one round trip for a read and, on a miss, the
 * start of its compute. `product` is the row read last.
 */
export function readOrLock(
  q: Queryable,
  key: string,
): Promise<{ locked: boolean; product: StoredProduct | undefined }> {
  return lockingRead(q, "read_or_lock", key);
}

/** Releases a lock taken by {@link tryLock} on the same session. */
export async function unlock(q: Queryable, key: string): Promise<void> {
  await q.query("select pg_advisory_unlock(hashtextextended($1, 0))", [key], "kck_unlock");
}

/**
 * Moves a stored product's freshness without touching its value or version: the source said
 * nothing changed. Undefined when no value is stored.
 */
export async function touchProduct(
  q: Queryable,
  w: {
    key: string;
    freshUntil: Date | null;
    staleUntil: Date | null;
    computeMs: number;
    /** As in {@link ComputedWrite}: invalidated meanwhile, it stays expired. */
    invalidations: number;
    /** As in {@link ComputedWrite}. */
    codeVersion?: string | undefined;
  },
): Promise<StoredProduct | undefined> {
  const { rows } = await q.query<StoredProduct>(
    `with up as (
       update kck.products set computed_at = now(),
         fresh_until = case when invalidations > $5 then now() else $2 end,
         stale_until = case when invalidations > $5 then now() else $3 end,
         compute_count = compute_count + 1, last_compute_ms = $4, last_error = null,
         updated_at = now(), code_version = coalesce($6, code_version)
       where key = $1 and computed_at is not null returning ${COLUMNS}
     )
     select up.* from up cross join lateral (select pg_notify('${EVENTS_CHANNEL}',
       json_build_object('k', up.key, 'v', up.version, 'op', 'compute', 'c', false, 't', ${EVENT_TIME})::text)) as n`,
    [w.key, w.freshUntil, w.staleUntil, w.computeMs, w.invalidations, w.codeVersion ?? null],
  );
  return rows[0];
}
