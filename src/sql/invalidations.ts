import type { Queryable } from "../db/db.ts";
import { notifyEach } from "./notify.ts";
import { COLUMNS, type StoredProduct } from "./products.ts";

/**
 * Marks a product expired, so that its next read recomputes it, and counts the invalidation;
 * one change event (op "invalidate").
 */
export async function expireProduct(q: Queryable, key: string): Promise<StoredProduct | undefined> {
  const { rows } = await q.query<StoredProduct>(
    `with up as (
       update kck.products set fresh_until = now(), stale_until = now(), updated_at = now(),
         invalidations = invalidations + 1
       where key = $1 returning ${COLUMNS}
     )
     select up.* from up ${notifyEach("up", "invalidate")}`,
    [key],
  );
  return rows[0];
}

/**
 * Marks products expired, and every product that read them, transitively, so that their
 * next read recomputes them; one change event (op "invalidate") each. Rows are locked in key
 * order so that two such statements cannot deadlock on each other.
 *
 * @returns the keys expired.
 */
export async function expireWithDependents(
  q: Queryable,
  keys: readonly string[],
): Promise<string[]> {
  if (keys.length === 0) return [];
  const { rows } = await q.query<{ key: string }>(
    `with recursive closure (key) as (
       select unnest($1::text[])
       union
       select d.dependent from kck.dependencies d join closure c on d.dependency = c.key
     ),
     locked as (
       select p.key from kck.products p where p.key in (select key from closure)
       order by p.key for update
     ),
     up as (
       update kck.products p set fresh_until = now(), stale_until = now(), updated_at = now(),
         invalidations = p.invalidations + 1
       from locked where p.key = locked.key
       returning p.key, p.version
     )
     select up.key from up ${notifyEach("up", "invalidate")}`,
    [keys],
  );
  return rows.map((row) => row.key);
}

/** A primer's current code, as {@link endFreshnessOfOtherCode} compares stored products to it. */
export interface PrimerCode {
  readonly primer: string;
  readonly codeVersion: string;
  /** Expire its products (recomputed before they are served) rather than leave them stale. */
  readonly expire: boolean;
}

/**
 * Ends the freshness of the stored products that another version of their primer's code
 * computed: stale (served, refreshed when read), or expired and counted as an invalidation.
 * Products already past that are left alone. Sends no change event.
 *
 * @returns how many products of each primer changed (only primers with some).
 */
export async function endFreshnessOfOtherCode(
  q: Queryable,
  primers: readonly PrimerCode[],
): Promise<{ primer: string; count: number }[]> {
  if (primers.length === 0) return [];
  const { rows } = await q.query<{ primer: string; count: number }>(
    `with current as (
       select * from unnest($1::text[], $2::text[], $3::boolean[]) as c(primer, version, expire)
     ),
     up as (
       update kck.products p set
         fresh_until = now(),
         stale_until = case when c.expire then now() else p.stale_until end,
         invalidations = p.invalidations + c.expire::int,
         updated_at = now()
       from current c
       where p.primer = c.primer and p.computed_at is not null
         and p.code_version is distinct from c.version
         and (p.fresh_until is null or p.fresh_until > now()
           or (c.expire and (p.stale_until is null or p.stale_until > now())))
       returning p.primer
     )
     select primer, count(*)::int as count from up group by primer`,
    [primers.map((p) => p.primer), primers.map((p) => p.codeVersion), primers.map((p) => p.expire)],
  );
  return rows;
}
