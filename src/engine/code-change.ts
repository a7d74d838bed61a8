import type { Queryable } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";

/**
 * Ends the freshness of the stored products that another version of their primer's code
 * computed: with `onCodeChange: "stale"` they are served stale (and refreshed in the background
 * when read), with "expire" the next read recomputes them before answering. Run at every start
 * (and on every reload of the primers), once the database is migrated.
 *
 * @returns how many products each changed primer had.
 */
export async function markCodeChanges(
  q: Queryable,
  primers: Iterable<AnyPrimer>,
  log: Logger,
): Promise<Map<string, number>> {
  const names: string[] = [];
  const versions: string[] = [];
  const expire: boolean[] = [];
  for (const primer of primers) {
    names.push(primer.name);
    versions.push(primer.codeVersion);
    expire.push(primer.onCodeChange === "expire");
  }
  const marked = new Map<string, number>();
  if (names.length === 0) return marked;
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
    [names, versions, expire],
  );
  for (const { primer, count } of rows) marked.set(primer, count);
  if (marked.size > 0) {
    log.info(
      { primers: Object.fromEntries(marked) },
      "the code of some primers changed: their stored products are no longer fresh",
    );
  }
  return marked;
}
