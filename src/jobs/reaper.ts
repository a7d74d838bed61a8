import type { Db } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import { forceUnlockWorkers, poolsLockingJobs } from "../sql/jobs.ts";
import { holdLock, type LockHolder } from "../sql/lock-holder.ts";
import { lockName, tryXactLock } from "../sql/locks.ts";
import { TASK_NAMES } from "./queue.ts";

declare global {
  namespace GraphileConfig {
    interface Plugins {
      KckLivenessPlugin: true;
    }
  }
}

/**
 * Proof of life for this process's worker pools. graphile-worker leaves the jobs of a worker
 * that died (SIGKILL, lost machine) locked for four hours; KCK does better: each pool holds an
 * advisory lock on a connection of its own, taken before the pool asks for its first job.
 * PostgreSQL drops it when the process dies, and any live worker that can then take it knows
 * the pool is gone and unlocks its jobs (see {@link reapDeadWorkers}).
 */
export class Liveness {
  private readonly holders = new Map<string, LockHolder>();

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  /** A graphile-worker plugin that holds the lock of a pool before its workers start. */
  plugin(): GraphileConfig.Plugin {
    return {
      name: "KckLivenessPlugin",
      version: "1.0.0",
      description: "Holds an advisory lock per worker pool so that others can see it is alive.",
      worker: {
        hooks: {
          startWorker: async (_ctx, event) => {
            await this.hold(event.worker.workerPool.id);
          },
        },
      },
    };
  }

  /** Holds the lock of one pool (idempotent). */
  hold(poolId: string): Promise<void> {
    let holder = this.holders.get(poolId);
    if (holder === undefined) {
      holder = holdLock({
        url: this.url,
        name: lockName.workerPool(poolId),
        onError: (error) => this.log.warn({ err: error, poolId }, "worker liveness lock lost"),
      });
      this.holders.set(poolId, holder);
    }
    return holder.held;
  }

  /** The ids of the pools whose lock this process holds. */
  get poolIds(): string[] {
    return [...this.holders.keys()];
  }

  /** Releases every lock (after the pools stopped). */
  async close(): Promise<void> {
    await Promise.all([...this.holders.values()].map((holder) => holder.close()));
    this.holders.clear();
  }
}

/**
 * Unlocks the KCK jobs of worker pools that are gone (their liveness lock is free), so that
 * another worker runs them again.
 *
 * @returns the ids of the pools found dead.
 */
export async function reapDeadWorkers(db: Db): Promise<string[]> {
  return db.transaction(async (tx) => {
    const dead: string[] = [];
    for (const id of await poolsLockingJobs(tx, TASK_NAMES)) {
      // Held until this transaction ends: a pool can only be this one's if its lock is free.
      if (await tryXactLock(tx, lockName.workerPool(id))) dead.push(id);
    }
    if (dead.length > 0) await forceUnlockWorkers(tx, dead);
    return dead;
  });
}
