import { createDb, type Db } from "../db/db.ts";
import type { JobState, JobsPort } from "../engine/ports.ts";
import { type ParsedKey, parseKey, primersByName, resolveKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { readJobState } from "./job-state.ts";
import { enqueuePrimes, PrimeBatcher } from "./queue.ts";
import { ReadTracker } from "./read-tracker.ts";

/** Settings of {@link JobQueue} (part of `JobsOptions`). */
export interface JobQueueSettings {
  /** How often recorded read times are written, in ms. @default 1000 */
  readFlushMs?: number;
  /**
   * A background refresh of one key asked for again within this many ms is enqueued once by
   * this process (across processes the job key folds them).
   * @default 1000
   */
  dedupeMs?: number;
}

/** Options for {@link JobQueue}. */
export interface JobQueueOptions extends JobQueueSettings {
  /** The cache's database: its URL for the queue's own pool, its query pool for job states. */
  db: Db;
  /** The primers this instance serves (their job policies, their hints). */
  primers: readonly AnyPrimer[];
  log: Logger;
}

/**
 * The engine's jobs port (src/engine/ports.ts) over graphile-worker: a stale read's refresh and
 * the primers' hints become prime jobs (deduplicated, the keys of one tick in one statement),
 * `prime` enqueues its keys, reads are recorded for schedules, and a product's job is read from
 * the queue. Built before the engine, which it is handed to; `startJobs` then readies the queue
 * and runs its workers. Owns the job system's small pool of its own (`bookkeeping`), apart from
 * the pools that serve reads and computes.
 */
export class JobQueue implements JobsPort {
  /** The job system's own pool: enqueueing, read times, reaping, pins of subscribed keys. */
  readonly bookkeeping: Db;
  private readonly db: Db;
  private readonly primers: ReadonlyMap<string, AnyPrimer>;
  private readonly log: Logger;
  private readonly primes: PrimeBatcher;
  private readonly reads: ReadTracker;
  private closed: Promise<void> | undefined;

  constructor(options: JobQueueOptions) {
    const { db, log } = options;
    this.db = db;
    this.log = log;
    this.primers = primersByName(options.primers);
    this.bookkeeping = createDb({
      url: db.url,
      poolSize: 3,
      sessionPoolSize: 1,
      applicationName: "kck-jobs",
      onError: (error) => log.warn({ err: error }, "an idle job connection failed"),
    });
    this.primes = new PrimeBatcher(this.bookkeeping, this.primers, log, options.dedupeMs ?? 1000);
    this.reads = new ReadTracker(this.bookkeeping, log, options.readFlushMs ?? 1000);
  }

  refreshLater(target: ParsedKey): void {
    this.primes.add(target.key);
  }

  prime(targets: readonly ParsedKey[]): Promise<void> {
    return enqueuePrimes(
      this.bookkeeping,
      this.primers,
      targets.map((target) => target.key),
    );
  }

  noteReads(targets: readonly ParsedKey[]): void {
    this.reads.note(targets.map((target) => target.key));
    for (const target of targets) {
      const hints = target.primer.policies.hints;
      if (hints === undefined) continue;
      try {
        for (const hint of hints(target.params)) {
          const key =
            typeof hint === "string"
              ? parseKey(this.primers, hint).key
              : resolveKey(target.primer, hint).key;
          if (key !== target.key) this.primes.add(key);
        }
      } catch (error) {
        this.log.warn({ key: target.key, err: error }, "a primer's hints failed; nothing primed");
      }
    }
  }

  refreshJob(key: string): Promise<JobState | undefined> {
    return readJobState(this.db, key);
  }

  /** Writes pending read times and enqueues pending background refreshes now. */
  async flush(): Promise<void> {
    await Promise.all([this.reads.flush(), this.primes.drain()]);
  }

  /** Writes what is pending, then closes the queue's pool; idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.reads.stop();
      await this.primes.drain();
      await this.bookkeeping.close();
    })();
    return this.closed;
  }
}
