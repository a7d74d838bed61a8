import type { Queryable } from "../db/db.ts";

/** One dependency edge: `dependent` read `dependency` when it was last computed. */
export interface Edge {
  readonly dependent: string;
  readonly dependency: string;
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
 * The dependents of `key` that a change of it must reach, in key order: all but those whose
 * value the same transaction changed as `key`'s (an augment rule brought them up to date in
 * place already; refreshing them would recompute what they hold).
 */
export async function dependentsToFollow(q: Queryable, key: string): Promise<string[]> {
  const { rows } = await q.query<{ key: string }>(
    `select d.dependent as key from kck.dependencies d
     left join kck.products dp on dp.key = d.dependent
     left join kck.products kp on kp.key = d.dependency
     where d.dependency = $1
       and (dp.changed_by is null or kp.changed_by is null or dp.changed_by <> kp.changed_by)
     order by d.dependent`,
    [key],
  );
  return rows.map((row) => row.key);
}

/**
 * The edges below `key` (what it reads, transitively), in one statement; none unless one of
 * `dependents` is among them (then `key` and that dependent form a cycle).
 */
export async function edgesBelowIfReaching(
  q: Queryable,
  key: string,
  dependents: readonly string[],
): Promise<Edge[]> {
  // UNION (not UNION ALL) visits each key once, so it ends even on a cyclic graph.
  const { rows } = await q.query<Edge>(
    `with recursive down(key) as (
       select $1::text
       union
       select d.dependency from down join kck.dependencies d on d.dependent = down.key
     )
     select d.dependent, d.dependency from kck.dependencies d
     where d.dependent in (select key from down)
       and exists (select 1 from down where down.key = any($2::text[]))`,
    [key, dependents],
  );
  return rows;
}
