import type { Engine } from "../engine/engine.ts";
import { cycleError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { recordError } from "../sql/computes.ts";
import { dependentsToFollow, edgesBelowIfReaching } from "../sql/dependencies.ts";
import { enqueueRefreshJobs } from "../sql/jobs.ts";
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
  const dependents = await dependentsToFollow(engine.db, key);
  if (dependents.length === 0) return;
  const cycles = await cyclesThrough(engine, key, dependents);
  const refresh: string[] = [];
  const foreign: string[] = [];
  for (const dependent of dependents) {
    const cycle = cycles.get(dependent);
    if (cycle) {
      const error = cycleError(cycle, "it is not refreshed along this edge");
      log.error({ key: dependent, cycle }, error.message);
      await recordError(engine.db, dependent, error.message);
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
    await enqueueRefreshJobs(engine.db, foreign, 100, 10);
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
  // One query for the whole downward closure.
  const rows = await edgesBelowIfReaching(engine.db, key, dependents);
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
