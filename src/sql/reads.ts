import type { Queryable } from "../db/db.ts";

// kck.products.read_at: when products were last read, written in batches (a read-time
// tracker), read by schedules with `readWithin` and by eviction.

/**
 * Marks the stored products among `keys` read now, except those already marked within
 * `withinMs` (one write per row per interval).
 *
 * @returns the keys that have no row (yet).
 */
export async function markRead(
  q: Queryable,
  keys: readonly string[],
  withinMs: number,
): Promise<string[]> {
  const { rows } = await q.query<{ missing: string[] }>(
    `with found as (select key, read_at from kck.products where key = any($1::text[])),
     marked as (
       update kck.products p set read_at = now() from found
       where p.key = found.key and (found.read_at is null
         or found.read_at < now() - make_interval(secs => $2 / 1000.0))
     )
     select array(select k from unnest($1::text[]) as k
                  where k not in (select key from found)) as missing`,
    [keys, withinMs],
  );
  return rows[0]?.missing ?? [];
}

/** The keys of a primer's products read within the last `withinMs`. */
export async function keysReadWithin(
  q: Queryable,
  primer: string,
  withinMs: number,
): Promise<string[]> {
  const { rows } = await q.query<{ key: string }>(
    `select key from kck.products
     where primer = $1 and read_at > now() - make_interval(secs => $2 / 1000.0)`,
    [primer, withinMs],
  );
  return rows.map((row) => row.key);
}
