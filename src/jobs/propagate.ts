import type { Engine } from "../engine/engine.ts";
import { KckError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { enqueuePropagation, enqueueRefreshes, primerOf } from "./queue.ts";

/**
 * Follows a product whose value changed to the products that read it: each is refreshed (as a
 * job, with its primer's delay) or invalidated, as its primer chooses; an invalidated one
 * passes the wave on to its own dependents. Those an augment rule already followed are left
 * alone. A dependent that the changed product itself
 * (transitively) reads is a cycle: it gets a DEPENDENCY_CYCLE error naming the keys instead.
 */
export async function propagate(engine: Engine, log: Logger, key: string): Promise<void> {
  // A dependent whose value was changed by the same transaction that last changed `key`'s was
  // brought up to date in place by an augment rule: refreshing it would recompute what it
  // already holds.
  const { rows } = await engine.db.query<{ key: string }>(
    `select d.dependent as key from kck.dependencies d
     left join kck.products dp on dp.key = d.dependent
     left join kck.products kp on kp.key = d.dependency
     where d.dependency = $1
       and (dp.changed_by is null or kp.changed_by is null or dp.changed_by <> kp.changed_by)
     order by d.dependent`,
    [key],
  );
  if (rows.length === 0) return;
  const cycles = await cyclesThrough(
    engine,
    key,
    rows.map((row) => row.key),
  );
  const refresh: string[] = [];
  const foreign: string[] = [];
  for (const { key: dependent } of rows) {
    const cycle = cycles.get(dependent);
    if (cycle) {
      const error = cycleError(cycle);
      log.error({ key: dependent, cycle }, error.message);
      await engine.db.query(
        `update kck.products set last_error = $2, last_error_at = now(),
           error_count = error_count + 1, updated_at = now() where key = $1`,
        [dependent, error.message],
      );
      continue;
    }
    const primer = primerOf(engine.primers, dependent);
    if (primer === undefined) {
      // Served by another deployment on this database: its workers take the refresh job (see
      // hand-off.ts), with the default delay and attempts, since its policies are not known here.
      foreign.push(dependent);
    } else if (primer.policies.onDependencyChange === "invalidate") {
      await engine.invalidate(dependent);
      await enqueuePropagation(engine.db, dependent);
    } else {
      refresh.push(dependent);
    }
  }
  await enqueueRefreshes(engine.db, engine.primers, refresh);
  if (foreign.length > 0) {
    await engine.db.query("select kck.enqueue_refreshes($1::text[], 100, 10)", [foreign]);
  }
}

/**
 * The dependents that `key` itself reads, directly or through others, each with the cycle's
 * keys (`dependent → key → … → dependent`).
 */
async function cyclesThrough(
  engine: Engine,
  key: string,
  dependents: readonly string[],
): Promise<Map<string, string[]>> {
  // One query for the whole downward closure; UNION (not UNION ALL) visits each key once, so
  // it ends even on a cyclic graph.
  const { rows } = await engine.db.query<{ dependent: string; dependency: string }>(
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
  const found = new Map<string, string[]>();
  if (rows.length === 0) return found;
  const edges = new Map<string, string[]>();
  for (const row of rows)
    edges.set(row.dependent, [...(edges.get(row.dependent) ?? []), row.dependency]);
  // Breadth first from `key`, remembering how each key was reached, for the shortest cycle.
  const parent = new Map<string, string>([[key, key]]);
  const queue = [key];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    for (const next of edges.get(at) ?? []) {
      if (parent.has(next)) continue;
      parent.set(next, at);
      queue.push(next);
    }
  }
  for (const dependent of dependents) {
    if (!parent.has(dependent)) continue;
    const path = [dependent];
    for (let at = dependent; at !== key; at = parent.get(at) as string)
      path.unshift(parent.get(at) as string);
    found.set(dependent, [dependent, ...path]);
  }
  return found;
}

function cycleError(keys: readonly string[]): KckError {
  return new KckError(
    "DEPENDENCY_CYCLE",
    `Dependency cycle: ${keys.join(" → ")}. A product cannot read itself, directly or through others; it is not refreshed along this edge.`,
  );
}
