/**
 * The engine's ports: what it needs from the parts around it, as interfaces those parts
 * implement. The composition root (`src/app.ts`) builds the implementations and passes them to
 * {@link Engine.start}; the engine imports none of them, so the arrows run one way: `jobs/`,
 * `augment/` and `graphql/` depend on the engine, never the engine on them.
 *
 * | port | what the engine asks of it | implemented by |
 * | --- | --- | --- |
 * | storage (`db`) | connections: the query pool, compute sessions, the compute pool, the URL of the change-event connection | `Db`, src/db/db.ts (the statements, src/sql/) |
 * | {@link JobsPort} | background work: a stale read's refresh, `prime`, read tracking, the state of a product's job | `JobQueue`, src/jobs/job-queue.ts |
 * | {@link ValueCheck} | whether a computed value fits its primer's GraphQL type | `ValueChecker`, src/graphql/value-checker.ts |
 * | {@link AugmentPort} | applying a delta to a product in place | `Augmenter`, src/augment/augmenter.ts |
 * | metrics (`EngineHooks`) | counting hits, misses, computes | `createMetrics`, src/metrics/ |
 *
 * @module
 */
import type { ParsedKey } from "../keys.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import type { JobState, JobStatus } from "../types.ts";
import type { StoredProduct } from "./product.ts";

export type { JobState, JobStatus };

/**
 * The job system, as the engine uses it: the work a read must not wait for, handed off to run
 * in the background, possibly in another process. Without one, the engine does that work
 * itself, in this process (a stale read's refresh, `prime`), and tracks no reads.
 */
export interface JobsPort {
  /**
   * Has a product served stale brought up to date in the background (computed unless it is
   * fresh by then). Called on the read path: returns at once and never throws.
   */
  refreshLater(target: ParsedKey): void;
  /**
   * Has products computed ahead of demand (each unless it is fresh by then); resolves once the
   * work is handed off, not done.
   */
  prime(targets: readonly ParsedKey[]): Promise<void>;
  /**
   * Told about every product served (read times for schedules, the primers' hints). Called on
   * the read path: returns at once and never throws.
   */
  noteReads(targets: readonly ParsedKey[]): void;
  /** The background job waiting or running for a product (a canonical key), if any. */
  refreshJob(key: string): Promise<JobState | undefined>;
}

/**
 * Checks a computed value against what its primer declares it to be (its GraphQL type),
 * before the value is stored. Without one, values are stored as their computes return them.
 */
export interface ValueCheck {
  /**
   * Resolves when `value` fits `primer`'s type; rejects with COMPUTE_FAILED, naming the path
   * and the expected type, when it does not (nothing is stored then; the last good value stays).
   */
  check(primer: AnyPrimer, key: string, value: unknown): Promise<void>;
}

/** Options of one augment. */
export interface AugmentOptions {
  /**
   * Applies the delta only if the product is at this version; otherwise nothing is written
   * and a CONFLICT error says which version it is at.
   */
  expectedVersion?: number | undefined;
  /**
   * Makes a retry safe: an augment of the same product with the same key that already
   * committed (in the last day) is not applied again, and the retry is answered with the
   * product as it stands. Up to 200 characters; one per augment, the same one when retrying.
   */
  idempotencyKey?: string | undefined;
}

/**
 * Applies deltas to products in place (the primer's `augment` reducer), what `Engine.augment`
 * hands its work to. Without one, the engine refuses augments.
 */
export interface AugmentPort {
  /**
   * Applies one delta to a product, computing the product first if it is missing or expired,
   * and returns what was stored, with the value and version right after this delta.
   */
  apply(target: ParsedKey, delta: unknown, options?: AugmentOptions): Promise<StoredProduct>;
}
