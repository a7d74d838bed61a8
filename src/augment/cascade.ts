import { canonicalJson, hashJson } from "../canonical-json.ts";
import type { Queryable } from "../db/db.ts";
import type { Engine } from "../engine/engine.ts";
import { freshnessOf, type StoredProduct } from "../engine/product.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import { lockAndRead, tryLockAndRead, writeAugmented } from "../sql/augments.ts";
import { type DependencyRule, rulesTargeting, type Step } from "./rules.ts";

/** What the cascade needs from its augmenter. */
export interface CascadeHost {
  readonly engine: Engine;
  readonly log: Logger;
  /** How long a rule waits for a busy dependent before invalidating it instead. */
  readonly ruleLockWaitMs: number;
}

const LOCK_TIMEOUT = "55P03";
const MAX_DEPTH = 64;

/** The code of a PostgreSQL error, if it is one. */
export const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/** Whether a stored product can be augmented (it has a value that is not expired). */
export const servable = (p: StoredProduct | undefined): p is StoredProduct => {
  const state = freshnessOf(p);
  return state === "FRESH" || state === "STALE";
};

/**
 * Stores the value a list of steps led to over a locked row (unless its hash is unchanged,
 * the version grows by one per step), then carries the steps to the dependents that have a rule
 * for them, in the same transaction. Dependents no rule could follow are added to `later`.
 */
export async function storeAndCascade(
  host: CascadeHost,
  tx: Queryable,
  target: ParsedKey,
  current: StoredProduct,
  steps: readonly Step[],
  later: string[],
  depth = 0,
): Promise<StoredProduct> {
  const json = canonicalJson(steps.at(-1)?.value);
  const hash = hashJson(json);
  const { product: stored, dependents } = await writeAugmented(tx, {
    key: target.key,
    json,
    hash,
    // Deltas applied together count as one change each (their values are not compared).
    versions: hash === current.hash ? 0 : steps.length,
    augments: steps.length,
  });
  const product = { ...stored, value: hash === current.hash ? current.value : steps.at(-1)?.value };
  if (hash === current.hash || dependents.length === 0) return product;
  const { named, following } =
    depth < MAX_DEPTH
      ? rulesTargeting(host.engine, target, steps, host.log)
      : { named: [], following: new Set<string>() };
  for (const dependent of dependents) {
    const rule = named.find((r) => r.target.key === dependent);
    if (rule !== undefined) {
      if (!(await follow(host, tx, target, steps, rule, later, depth))) later.push(dependent);
    } else if (!following.has(host.engine.parse(dependent).primer.name)) {
      // No rule of its primer follows this one: it cannot be brought up to date in place.
      later.push(dependent);
    }
    // Otherwise its primer's rule left it out: this change does not affect it.
  }
  return product;
}

/**
 * Applies one rule to one dependent, step by step; false when it could not (the dependent
 * stayed busy, or the rule threw), so that the caller invalidates it instead.
 */
async function follow(
  host: CascadeHost,
  tx: Queryable,
  source: ParsedKey,
  steps: readonly Step[],
  { target, rule }: DependencyRule,
  later: string[],
  depth: number,
): Promise<boolean> {
  let { locked, product: current } = await tryLockAndRead(tx, target.key);
  if (!locked) {
    const waited = await waitForLock(host, tx, target.key);
    if (waited === false) return false;
    current = waited;
  }
  // Missing or expired: its next read recomputes it from the new data anyway.
  if (!servable(current)) return true;
  const own: Step[] = [];
  try {
    let value = current.value;
    for (const step of steps) {
      const next = rule.reduce(
        value,
        { key: source.key, params: source.params, ...step },
        { key: target.key, params: target.params },
      );
      own.push({ previous: value, value: next, delta: undefined });
      value = next;
    }
  } catch (error) {
    host.log.warn(
      { key: target.key, from: source.key, err: error },
      "a rule could not follow an augment; invalidating instead",
    );
    return false;
  }
  await storeAndCascade(host, tx, target, current, own, later, depth + 1);
  return true;
}

/**
 * Waits a bounded time for a busy dependent's locks, under a savepoint so that giving up
 * leaves the transaction usable: whoever holds them may be a compute that waits for a lock
 * this transaction holds, a wait PostgreSQL cannot see as a deadlock.
 *
 * @returns the locked row, or false when the wait timed out.
 */
async function waitForLock(
  host: CascadeHost,
  tx: Queryable,
  key: string,
): Promise<StoredProduct | undefined | false> {
  await tx.query("savepoint kck_rule_wait");
  try {
    await tx.query("select set_config('lock_timeout', $1, true)", [`${host.ruleLockWaitMs}ms`]);
    const current = await lockAndRead(tx, key);
    await tx.query("select set_config('lock_timeout', '0', true)");
    await tx.query("release savepoint kck_rule_wait");
    return current;
  } catch (error) {
    if (codeOf(error) !== LOCK_TIMEOUT) throw error;
    await tx.query("rollback to savepoint kck_rule_wait");
    host.log.warn({ key }, "a dependent stayed locked; invalidating it instead of augmenting it");
    return false;
  }
}
