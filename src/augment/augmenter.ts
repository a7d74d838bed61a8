import type { Queryable } from "../db/db.ts";
import type { Engine } from "../engine/engine.ts";
import { notFoundError } from "../engine/not-found.ts";
import type { AugmentOptions, AugmentPort } from "../engine/ports.ts";
import type { StoredProduct } from "../engine/product.ts";
import { KckError, messageOf } from "../errors.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import type { AnyAugmentSpec, AugmentContext } from "../primer/augment-spec.ts";
import { appliedRequests, lockAndRead, recordRequests } from "../sql/augments.ts";
import { expireWithDependents } from "../sql/invalidations.ts";
import { checkIdempotencyKey } from "./augment-requests.ts";
import { codeOf, servable, storeAndCascade } from "./cascade.ts";
import type { Step } from "./rules.ts";

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
  /** The most deltas of one key applied in one transaction. @default 64 */
  maxBatch?: number;
  /**
   * Brings the dependents that no rule augmented up to date after an augment commits.
   * @default expires them (and their dependents), so that their next read recomputes them
   */
  updateDependents?: (keys: readonly string[], cause: AugmentCause) => Promise<void>;
}

/** One augment waiting for its key's turn. */
interface Pending {
  readonly target: ParsedKey;
  readonly delta: unknown;
  readonly expectedVersion: number | undefined;
  readonly idempotencyKey: string | undefined;
  resolve(product: StoredProduct): void;
  reject(error: unknown): void;
}

/**
 * What a batch's transaction decided for each of its augments: applied as the index-th step,
 * refused, or already applied by an earlier request with the same idempotency key.
 */
type Decided = { index: number } | { error: Error } | { replay: true };

const DEADLOCK = "40P01";

/** Thrown inside a batch whose reducer failed, so that each delta is retried on its own. */
class SplitBatch extends Error {}

/**
 * Applies deltas to products in place. Augments of one key queue up in this process and are
 * applied in batches, one transaction each: it takes the key's lock and row lock, runs the
 * reducer once per delta, stores the last value (the version grows by one per delta) with
 * one change event, and carries the change to dependents that have a rule for it. So a hot
 * key holds one connection per process, and one commit serves many deltas. The dependents no
 * rule followed go to {@link AugmenterOptions.updateDependents} after the commit.
 *
 * It is the engine's augment port (src/engine/ports.ts): the composition root builds it for the
 * engine, and `Engine.augment` hands it its deltas.
 */
export class Augmenter implements AugmentPort {
  readonly log: Logger;
  readonly ruleLockWaitMs: number;
  private readonly deadlockRetries: number;
  private readonly maxBatch: number;
  private readonly queues = new Map<string, Pending[]>();
  private readonly updateDependents: (
    keys: readonly string[],
    cause: AugmentCause,
  ) => Promise<void>;

  constructor(
    readonly engine: Engine,
    options: AugmenterOptions,
  ) {
    this.log = options.log;
    this.ruleLockWaitMs = options.ruleLockWaitMs ?? 5000;
    this.deadlockRetries = options.deadlockRetries ?? 5;
    this.maxBatch = options.maxBatch ?? 64;
    this.updateDependents =
      options.updateDependents ??
      (async (keys) => {
        await expireWithDependents(this.engine.db, keys);
      });
  }

  /**
   * Applies one delta to a product, computing the product first if it is missing or
   * expired, and returns what was stored, with the value and version right after this delta.
   */
  apply(target: ParsedKey, delta: unknown, options: AugmentOptions = {}): Promise<StoredProduct> {
    if (target.primer.augment === undefined) {
      return Promise.reject(
        new KckError(
          "NOT_AUGMENTABLE",
          `Primer "${target.primer.name}" cannot be augmented: it declares no augment.`,
        ),
      );
    }
    try {
      checkIdempotencyKey(options.idempotencyKey);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const item = {
        target,
        delta,
        expectedVersion: options.expectedVersion,
        idempotencyKey: options.idempotencyKey,
        resolve,
        reject,
      };
      const queue = this.queues.get(target.key);
      if (queue) {
        queue.push(item);
        return;
      }
      const created = [item];
      this.queues.set(target.key, created);
      void this.drain(target.key, created);
    });
  }

  private async drain(key: string, queue: Pending[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch);
      await this.run(batch).catch((error: unknown) => {
        for (const item of batch) item.reject(error);
      });
    }
    this.queues.delete(key);
  }

  /** Applies a batch of deltas of one key; settles each of its augments. */
  private async run(batch: Pending[]): Promise<void> {
    const [first] = batch;
    if (first === undefined) return;
    const { target } = first;
    const spec = target.primer.augment as AnyAugmentSpec;
    for (let attempt = 1; ; attempt++) {
      let outcome: Awaited<ReturnType<Augmenter["transact"]>>;
      try {
        outcome = await this.engine.db.transaction((tx) => this.transact(tx, target, spec, batch), {
          pool: "session",
        });
      } catch (error) {
        if (codeOf(error) === DEADLOCK && attempt <= this.deadlockRetries) continue;
        if (error instanceof SplitBatch) {
          for (const item of batch) await this.run([item]).catch(item.reject);
          return;
        }
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
      const { decided, base, steps, product, later } = outcome;
      // Read-your-writes: this instance drops its copy now (the change event does it everywhere),
      // whether or not the product has dependents.
      if (steps.length > 0) this.engine.noteWritten(product.key);
      // Dependents first, so that whoever awaits an augment then reads up-to-date dependents.
      if (later.length > 0) await this.afterCommit(later, product);
      batch.forEach((item, i) => {
        const d = decided[i] as Decided;
        if ("error" in d) {
          item.reject(d.error);
        } else if ("replay" in d) {
          item.resolve(product);
        } else {
          // Deltas that left the hash as it was grew no version.
          const version = product.version === base ? base : base + d.index + 1;
          item.resolve({ ...product, value: steps[d.index]?.value, version });
        }
      });
      return;
    }
  }

  private async transact(tx: Queryable, target: ParsedKey, spec: AnyAugmentSpec, batch: Pending[]) {
    const current = await lockAndRead(tx, target.key);
    if (!servable(current) && batch.some((item) => item.expectedVersion === undefined)) {
      return "missing" as const;
    }
    // A product that does not exist has nothing to apply a delta to.
    if (current?.notFound != null) throw notFoundError(current);
    const decided: Decided[] = [];
    const steps: Step[] = [];
    const base = current?.version ?? 0;
    let value = current?.value;
    const keyed = batch.flatMap((item) => item.idempotencyKey ?? []);
    const applied = await appliedRequests(tx, target.key, keyed);
    const requests: { request: string; index: number }[] = [];
    for (const item of batch) {
      const request = item.idempotencyKey;
      if (
        request !== undefined &&
        (applied.has(request) || requests.some((r) => r.request === request))
      ) {
        decided.push({ replay: true });
        continue;
      }
      const conflict = checkVersion(target.key, current, base + steps.length, item.expectedVersion);
      if (conflict) {
        decided.push({ error: conflict });
        continue;
      }
      let next: unknown;
      try {
        next = await spec.reduce(value, item.delta, contextFor(tx, target));
      } catch (error) {
        // A failed reducer may have run statements: undo the batch, then go one by one.
        if (codeOf(error) === DEADLOCK) throw error;
        if (batch.length > 1) throw new SplitBatch();
        throw reducerError(target.key, error);
      }
      if (request !== undefined) requests.push({ request, index: steps.length });
      decided.push({ index: steps.length });
      steps.push({ previous: value, value: next, delta: item.delta });
      value = next;
    }
    const later: string[] = [];
    const product =
      steps.length > 0 && current
        ? await storeAndCascade(this, tx, target, current, steps, later)
        : (current as StoredProduct);
    await recordRequests(
      tx,
      target.key,
      requests.map(({ request, index }) => ({
        request,
        // Deltas that left the hash as it was grew no version.
        version: product.version === base ? base : base + index + 1,
      })),
    );
    return { decided, base, steps, product, later };
  }

  private async afterCommit(later: readonly string[], product: StoredProduct): Promise<void> {
    const keys = [...new Set(later)];
    try {
      await this.updateDependents(keys, { key: product.key, version: product.version });
    } catch (error) {
      // The augment itself committed; its dependents stay as they were until they expire.
      this.log.error({ key: product.key, dependents: keys, err: error }, "dependents not updated");
    }
  }
}

function checkVersion(
  key: string,
  current: StoredProduct | undefined,
  version: number,
  expected: number | undefined,
): KckError | undefined {
  if (expected === undefined) return undefined;
  if (current === undefined || current.computedAt === null) {
    return new KckError(
      "CONFLICT",
      `${key} has not been computed yet, so it is not at version ${expected}; nothing was written. Read it first (that computes it), then augment with the version you read.`,
    );
  }
  if (version === expected) return undefined;
  return new KckError(
    "CONFLICT",
    `${key} is at version ${version}, not at the expected version ${expected}; nothing was written. Read it again and retry with expectedVersion ${version}.`,
  );
}

function contextFor(tx: Queryable, target: ParsedKey): AugmentContext<never> {
  return {
    key: target.key,
    params: target.params as never,
    sql: async (text, values) => (await tx.query(text, values)).rows as never,
  };
}

/** What a reducer threw, for the client: KckErrors as they are, anything else AUGMENT_FAILED. */
function reducerError(key: string, error: unknown): Error {
  if (error instanceof KckError) return error;
  return new KckError("AUGMENT_FAILED", `Augmenting ${key} failed: ${messageOf(error)}`, {
    cause: error,
  });
}
