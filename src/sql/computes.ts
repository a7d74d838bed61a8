import { canonicalJson } from "../canonical-json.ts";
import type { Queryable } from "../db/db.ts";
import { notifyEach } from "./notify.ts";
import { COLUMNS, type StoredProduct } from "./products.ts";

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
 * Stores a computed value, its dependency edges and its change event (op "compute") in one
 * statement (so one transaction). The version grows only when the hash differs from the
 * stored one.
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
     ${notifyEach("up", "compute", "n.changed")}`,
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

/**
 * Records an error on a stored product without a compute (a dependency cycle found by
 * propagation): its value, freshness and version stay.
 */
export async function recordError(q: Queryable, key: string, message: string): Promise<void> {
  await q.query(
    `update kck.products set last_error = $2, last_error_at = now(),
       error_count = error_count + 1, updated_at = now() where key = $1`,
    [key, message],
  );
}

/**
 * Moves a stored product's freshness without touching its value or version: the source said
 * nothing changed (a change event, op "compute", unchanged). Undefined when no value is stored.
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
     select up.* from up ${notifyEach("up", "compute")}`,
    [w.key, w.freshUntil, w.staleUntil, w.computeMs, w.invalidations, w.codeVersion ?? null],
  );
  return rows[0];
}
