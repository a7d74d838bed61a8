import type { Db } from "../db/db.ts";
import type { ParsedKey } from "../keys.ts";
import { readProducts } from "../sql/products.ts";
import { type Mode, satisfies } from "./flight.ts";
import type { JobState, JobsPort } from "./ports.ts";
import type { StoredProduct } from "./product.ts";

/** What {@link InProcessJobs} needs from the engine. */
export interface InProcessJobsOptions {
  db: Db;
  /** Computes a key through the engine's single flight. */
  ensure: (target: ParsedKey, mode: Mode) => Promise<StoredProduct>;
  /** Keeps background work until the engine stops (and logs its failure). */
  track: (work: Promise<unknown>) => void;
  /** Logs a compute that failed in the background. */
  logFailure: (key: string, error: unknown) => void;
}

/**
 * The engine's jobs port when it is given none (a command, a test, an embedded engine): the
 * background work runs in this process, now. A stale read's refresh is a compute of its own,
 * `prime` computes what is not fresh and waits for it, reads are not tracked, and there is no
 * job to show.
 */
export class InProcessJobs implements JobsPort {
  constructor(private readonly options: InProcessJobsOptions) {}

  refreshLater(target: ParsedKey): void {
    this.options.track(this.options.ensure(target, "stale"));
  }

  async prime(targets: readonly ParsedKey[]): Promise<void> {
    const { db, ensure, logFailure } = this.options;
    const stored = await readProducts(
      db,
      targets.map((target) => target.key),
    );
    await Promise.all(
      targets
        .filter((target) => !satisfies(stored.get(target.key), "stale"))
        .map((target) =>
          ensure(target, "stale").catch((error: unknown) => logFailure(target.key, error)),
        ),
    );
  }

  noteReads(): void {}

  async refreshJob(): Promise<JobState | undefined> {
    return undefined;
  }
}
