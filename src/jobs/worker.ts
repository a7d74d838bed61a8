import { Logger as GraphileLogger, run, runMigrations } from "graphile-worker";
import type { Queryable } from "../db/db.ts";
import { createWorkerPool, type WorkerPool } from "../db/worker-pool.ts";
import type { Engine } from "../engine/engine.ts";
import { messageOf } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { forceUnlockWorkers } from "../sql/jobs.ts";
import { exclusively, LOCK } from "../sql/locks.ts";
import { holdDeployment } from "./deployment.ts";
import { DEFAULT_STORE, requestEviction, type StoreOptions } from "./evict.ts";
import type { JobQueue, JobQueueSettings } from "./job-queue.ts";
import { Liveness, reapDeadWorkers } from "./reaper.ts";
import { cronItems, ensureSchedules } from "./schedule.ts";
import { type SupervisedRunner, superviseRunner } from "./supervised-runner.ts";
import { createTasks } from "./tasks.ts";
import { installSourceTriggers } from "./triggers.ts";

/**
 * Options for {@link startJobs} (and, for the fields of {@link JobQueueSettings}, for the
 * `JobQueue` it runs). Every background refresh goes through graphile-worker.
 */
export interface JobsOptions extends JobQueueSettings {
  /**
   * Whether this process also runs jobs (a graphile-worker pool). Without it the process
   * still enqueues jobs, for the workers of other processes to run.
   * @default true
   */
  worker?: boolean;
  /** How many jobs this process runs at once. @default 4 */
  concurrency?: number;
  /**
   * How often an idle worker looks for jobs that became due (delayed or retried) in ms. New
   * jobs that are due at once are announced by NOTIFY and start without waiting for it.
   * @default 500
   */
  pollInterval?: number;
  /** How often a worker looks for the jobs of workers that died, in ms. @default 5000 */
  reapIntervalMs?: number;
  /**
   * Bounds on the store, enforced by a background eviction job (one across all processes);
   * false turns eviction off.
   * @default DEFAULT_STORE
   */
  store?: StoreOptions | false;
}

/** The running job system of one process. */
export interface Jobs {
  /** The job system's own small pool, for background bookkeeping (pins of subscribed keys). */
  readonly bookkeeping: Queryable;
  /** Writes pending read times and enqueues pending background refreshes now. */
  flush(): Promise<void>;
  /** Stops the worker pool (waiting for running jobs), the timers and the locks; idempotent. */
  stop(): Promise<void>;
  /**
   * Hands the jobs this process is running back to the queue at once, for a stop that cannot
   * wait for them: any worker (or this one's successor) runs them again from the start. What
   * they store is one statement, so they leave their product as it was or whole, never half.
   */
  release(): Promise<void>;
}

function graphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const fields = { worker: scope, ...meta };
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    // graphile-worker logs every completed job at info: that is debug detail for KCK.
    else log.debug(fields, message);
  });
}

// The databases whose queue this process has migrated: a process that starts its job system
// again (`kck dev` at each reload) does not migrate it again.
const migratedQueues = new Set<string>();

/** graphile-worker's schema, migrated by one process at a time. */
async function migrateQueue(engine: Engine, logger: GraphileLogger): Promise<void> {
  if (migratedQueues.has(engine.db.url)) return;
  await exclusively(engine.db, LOCK.queueMigrations, () =>
    runMigrations({ connectionString: engine.db.url, logger, maxPoolSize: 2 }),
  );
  migratedQueues.add(engine.db.url);
}

/**
 * Starts the job system of one process: migrates graphile-worker's schema, installs the source
 * triggers, books the interval schedules, and, unless `worker: false`, runs a worker pool whose
 * jobs the engine computes. The engine's background work (stale reads, prime, read tracking,
 * hints) already goes to `queue`, its jobs port; from here on the job system owns the queue:
 * its `stop` (or a failed start) closes it.
 */
export async function startJobs(
  engine: Engine,
  queue: JobQueue,
  log: Logger,
  options: JobsOptions = {},
): Promise<Jobs> {
  const logger = graphileLogger(log);
  const primers = [...engine.primers.values()];
  const crons = cronItems(primers);
  // Bookkeeping (enqueueing, read times, reaping) uses the queue's small pool.
  const db = queue.bookkeeping;
  // Held for as long as this process runs: the source triggers it declares are kept while it
  // lives (see `kck migrate --prune`).
  const deployment = holdDeployment(engine.db.url, log);
  try {
    await deployment.held;
    await migrateQueue(engine, logger);
    await installSourceTriggers(db, primers, log, deployment.id);
    await ensureSchedules(db, primers);
  } catch (error) {
    await deployment.close();
    await queue.close();
    throw error;
  }

  let runner: SupervisedRunner | undefined;
  let workerPool: WorkerPool | undefined;
  let liveness: Liveness | undefined;
  let reaper: NodeJS.Timeout | undefined;
  let evictor: NodeJS.Timeout | undefined;
  let reaping: Promise<unknown> = Promise.resolve();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= halt();
    return stopped;
  };
  const halt = async (): Promise<void> => {
    clearInterval(reaper);
    clearInterval(evictor);
    await runner?.stop();
    await workerPool?.close();
    await reaping;
    await liveness?.close();
    await queue.close();
    await deployment.close();
  };
  if (options.worker ?? true) {
    const current = new Liveness(engine.db.url, log);
    liveness = current;
    const concurrency = options.concurrency ?? 4;
    const pool = createWorkerPool({
      url: engine.db.url,
      max: concurrency + 2,
      onError: (error) => log.warn({ err: messageOf(error) }, "an idle worker connection failed"),
    });
    workerPool = pool;
    try {
      runner = await superviseRunner({
        log,
        // A stopped runner's pools are gone: their locks go, so that the reaper unlocks their jobs.
        onExit: () => current.close(),
        start: () =>
          run({
            pgPool: pool.pool,
            concurrency,
            pollInterval: options.pollInterval ?? 500,
            noHandleSignals: true,
            taskList: createTasks(engine, log, options.store ?? {}),
            parsedCronItems: crons,
            logger,
            preset: {
              plugins: [current.plugin()],
              // Unbatched, graphile-worker records a job's outcome without waiting for it: a stop
              // right after a job ended could leave it locked as if still running, and a write
              // that failed (the database gone) would be an unhandled rejection. Batched (even
              // with no delay), the stop waits for those writes, and a failed one shuts the pool
              // down, which superviseRunner answers with a new runner.
              worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 },
            },
          }),
      });
    } catch (error) {
      await stop();
      throw error;
    }
    const reap = () => {
      reaping = reaping
        .then(() => reapDeadWorkers(db))
        .then(
          (dead) => {
            if (dead.length > 0) log.warn({ pools: dead }, "unlocked the jobs of dead workers");
          },
          (error: unknown) =>
            log.warn({ err: messageOf(error) }, "could not look for dead workers"),
        );
    };
    reap();
    reaper = setInterval(reap, options.reapIntervalMs ?? 5000);
    reaper.unref();
    if (options.store !== false) {
      evictor = setInterval(
        () =>
          void requestEviction(db).catch((error: unknown) =>
            log.warn({ err: messageOf(error) }, "could not ask for an eviction run"),
          ),
        options.store?.evictIntervalMs ?? DEFAULT_STORE.evictIntervalMs,
      );
      evictor.unref();
    }
  }

  return {
    bookkeeping: db,
    flush: () => queue.flush(),
    stop,
    async release() {
      const pools = liveness?.poolIds ?? [];
      if (pools.length === 0) return;
      await forceUnlockWorkers(db, pools);
      log.warn({ pools }, "handed the running jobs back to the queue");
    },
  };
}
