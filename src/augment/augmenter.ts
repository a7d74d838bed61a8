import { createHash } from "node:crypto";
import type { Queryable } from "../db/db.ts";
import type { Engine } from "../engine/engine.ts";
import { freshnessOf, type StoredProduct } from "../engine/product.ts";
import { KckError, messageOf } from "../errors.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import type { AugmentContext } from "../primer/augment-spec.ts";
import {
  expireWithDependents,
  lockAndRead,
  tryLockAndRead,
  writeAugmented,
} from "./augment-store.ts";
import { type DependencyRule, rulesTargeting } from "./rules.ts";
import { sessionTransaction } from "./session-transaction.ts";

/** Options of one augment. */
export interface AugmentOptions {
  /**
   * Applies the delta only if the product is at this version; otherwise nothing is written
   * and a CONFLICT error says which version it is at.
   */
  expectedVersion?: number | undefined;
}

/** The augment that made some dependents out of date. */
export interface AugmentCause {
  /** The augmented key. */
  readonly key: string;
  /** Its version after the augment. */
  readonly version: number;
}

/** Options for {@link Augmenter}. */
export interface AugmenterOptions {
  log: Logger;
  /**
   * How long a rule waits for a dependent that another transaction holds (a compute, most
   * likely) before it gives up on augmenting it and hands it to `updateDependents` instead.
   * @default 5000
   */
  ruleLockWaitMs?: number;
  /** How often an augment chosen as a deadlock's victim is retried. @default 5 */
  deadlockRetries?: number;
}

/** A change being carried along dependency edges inside one augment's transaction. */
interface Change {
  readonly target: ParsedKey;
  readonly previous: unknown;
  readonly value: unknown;
  readonly delta: unknown;
  readonly dependents: readonly string[];
}

const DEADLOCK = "40P01";
const LOCK_TIMEOUT = "55P03";
const MAX_DEPTH = 64;

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;
const hashOf = (json: string): string => createHash("sha1").update(json).digest("base64url");
const servable = (p: StoredProduct | undefined): p is StoredProduct => {
  const state = freshnessOf(p);
  return state === "FRESH" || state === "STALE";
};

/**
 * Applies deltas to products in place. One augment is one transaction: it takes the key's
 * lock and row lock, runs the primer's reducer, stores the next value with a version bump and
 * a change event, and carries the change to dependents that have a rule for it (each under
 * its own savepoint, so a failing rule only drops back to invalidation). The other
 * dependents go to {@link Augmenter.updateDependents} after the commit.
 */
export class Augmenter {
  /**
   * Brings the dependents that no rule augmented up to date after an augment commits. By
   * default they (and their dependents) are expired, so their next read recomputes them;
   * replace it to refresh them through a job queue instead.
   */
  updateDependents: (keys: readonly string[], cause: AugmentCause) => Promise<void>;
  private readonly log: Logger;
  private readonly ruleLockWaitMs: number;
  private readonly deadlockRetries: number;

  constructor(
    private readonly engine: Engine,
    options: AugmenterOptions,
  ) {
    this.log = options.log;
    this.ruleLockWaitMs = options.ruleLockWaitMs ?? 5000;
    this.deadlockRetries = options.deadlockRetries ?? 5;
    this.updateDependents = async (keys) => {
      await expireWithDependents(this.engine.db, keys);
    };
  }

  /**
   * Applies one delta to a product, computing the product first if it is missing or
   * expired, and returns what was stored.
   */
  async apply(
    target: ParsedKey,
    delta: unknown,
    options: AugmentOptions = {},
  ): Promise<StoredProduct> {
    const spec = target.primer.augment;
    if (spec === undefined) {
      throw new KckError(
        "NOT_AUGMENTABLE",
        `Primer "${target.primer.name}" cannot be augmented: it declares no augment.`,
      );
    }
    const { expectedVersion } = options;
    for (let attempt = 1; ; attempt++) {
      let outcome: { product: StoredProduct; later: string[] } | "missing";
      try {
        outcome = await sessionTransaction(this.engine.db, async (tx) => {
          const current = await lockAndRead(tx, target.key);
          if (expectedVersion !== undefined) {
            checkVersion(target.key, current, expectedVersion);
          } else if (!servable(current)) {
            return "missing";
          }
          const stored = current as StoredProduct;
          const next = await reduced(target.key, () =>
            spec.reduce(stored.value, delta, contextFor(tx, target)),
          );
          const later: string[] = [];
          const product = await this.store(tx, target, stored, next, delta, later, 0);
          return { product, later };
        });
      } catch (error) {
        if (codeOf(error) === DEADLOCK && attempt <= this.deadlockRetries) continue;
        throw error;
      }
      if (outcome === "missing") {
        // Augmenting a product nobody computed yet (or one expired) starts from a fresh compute.
        if (attempt > 3) {
          throw new KckError(
            "CONFLICT",
            `${target.key} kept being invalidated while it was augmented; try again.`,
          );
        }
        const [loaded] = await this.engine.load([target]);
        if (loaded instanceof Error) throw loaded;
        continue;
      }
      await this.afterCommit(outcome.later, outcome.product);
      return outcome.product;
    }
  }

  /** Stores a reduced value over a locked row and carries the change to rule dependents. */
  private async store(
    tx: Queryable,
    target: ParsedKey,
    current: StoredProduct,
    next: unknown,
    delta: unknown,
    later: string[],
    depth: number,
  ): Promise<StoredProduct> {
    const json = JSON.stringify(next ?? null);
    const hash = hashOf(json);
    const { product, dependents } = await writeAugmented(tx, {
      key: target.key,
      json,
      hash,
      changed: hash !== current.hash,
    });
    if (hash !== current.hash && dependents.length > 0) {
      await this.cascade(
        tx,
        { target, previous: current.value, value: next, delta, dependents },
        later,
        depth,
      );
    }
    return product;
  }

  /** Augments each dependent that has a rule for this change; lists the others in `later`. */
  private async cascade(
    tx: Queryable,
    change: Change,
    later: string[],
    depth: number,
  ): Promise<void> {
    const rules = depth < MAX_DEPTH ? rulesTargeting(this.engine, change.target, this.log) : [];
    for (const dependent of change.dependents) {
      const rule = rules.find((r) => r.target.key === dependent);
      if (rule === undefined || !(await this.follow(tx, change, rule, later, depth))) {
        later.push(dependent);
      }
    }
  }

  /**
   * Applies one rule to one dependent; false when it could not (the dependent stayed busy, or
   * the rule threw), so that the caller invalidates it instead.
   */
  private async follow(
    tx: Queryable,
    change: Change,
    { target, rule }: DependencyRule,
    later: string[],
    depth: number,
  ): Promise<boolean> {
    let { locked, product: current } = await tryLockAndRead(tx, target.key);
    if (!locked) {
      const waited = await this.waitForLock(tx, target.key);
      if (waited === false) return false;
      current = waited;
    }
    // Missing or expired: its next read recomputes it from the new data anyway.
    if (!servable(current)) return true;
    let next: unknown;
    try {
      next = rule.reduce(
        current.value,
        {
          key: change.target.key,
          params: change.target.params,
          previous: change.previous,
          value: change.value,
          delta: change.delta,
        },
        { key: target.key, params: target.params },
      );
    } catch (error) {
      this.log.warn(
        { key: target.key, from: change.target.key, err: error },
        "a rule could not follow an augment; invalidating instead",
      );
      return false;
    }
    await this.store(tx, target, current, next, undefined, later, depth + 1);
    return true;
  }

  /**
   * Waits a bounded time for a busy dependent's locks, under a savepoint so that giving up
   * leaves the transaction usable: whoever holds them may be a compute that waits for a
   * lock this transaction holds, a wait PostgreSQL cannot see as a deadlock.
   *
   * @returns the locked row, or false when the wait timed out.
   */
  private async waitForLock(
    tx: Queryable,
    key: string,
  ): Promise<StoredProduct | undefined | false> {
    await tx.query("savepoint kck_rule_wait");
    try {
      await tx.query("select set_config('lock_timeout', $1, true)", [`${this.ruleLockWaitMs}ms`]);
      const current = await lockAndRead(tx, key);
      await tx.query("select set_config('lock_timeout', '0', true)");
      await tx.query("release savepoint kck_rule_wait");
      return current;
    } catch (error) {
      if (codeOf(error) !== LOCK_TIMEOUT) throw error;
      await tx.query("rollback to savepoint kck_rule_wait");
      this.log.warn({ key }, "a dependent stayed locked; invalidating it instead of augmenting it");
      return false;
    }
  }

  private async afterCommit(later: readonly string[], product: StoredProduct): Promise<void> {
    if (later.length === 0) return;
    const keys = [...new Set(later)];
    try {
      await this.updateDependents(keys, { key: product.key, version: product.version });
    } catch (error) {
      // The augment itself committed; its dependents stay as they were until they expire.
      this.log.error({ key: product.key, dependents: keys, err: error }, "dependents not updated");
    }
  }
}

function checkVersion(key: string, current: StoredProduct | undefined, expected: number): void {
  if (current === undefined || current.computedAt === null) {
    throw new KckError(
      "CONFLICT",
      `${key} has not been computed yet, so it is not at version ${expected}; nothing was written. Read it first (that computes it), then augment with the version you read.`,
    );
  }
  if (current.version !== expected) {
    throw new KckError(
      "CONFLICT",
      `${key} is at version ${current.version}, not at the expected version ${expected}; nothing was written. Read it again and retry with expectedVersion ${current.version}.`,
    );
  }
}

function contextFor(tx: Queryable, target: ParsedKey): AugmentContext<never> {
  return {
    key: target.key,
    params: target.params as never,
    sql: async (text, values) => (await tx.query(text, values)).rows as never,
  };
}

/** Runs a reducer; anything it throws that is not a KckError becomes AUGMENT_FAILED. */
async function reduced(key: string, reduce: () => unknown): Promise<unknown> {
  try {
    return await reduce();
  } catch (error) {
    // Deadlocks and lock timeouts are the caller's to handle, not the reducer's failure.
    if (error instanceof KckError || codeOf(error) === DEADLOCK || codeOf(error) === LOCK_TIMEOUT)
      throw error;
    throw new KckError("AUGMENT_FAILED", `Augmenting ${key} failed: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
