import type { JobHelpers, TaskList } from "graphile-worker";
import type { Engine } from "../engine/engine.ts";
import { KckError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { tryXactLock } from "../sql/locks.ts";
import { runEviction, type StoreOptions } from "./evict.ts";
import { handOff } from "./hand-off.ts";
import { propagate } from "./propagate.ts";
import { TASK } from "./queue.ts";
import { runSchedule } from "./schedule.ts";

const keyOf = (payload: unknown, task: string): string => {
  const key = (payload as { key?: unknown } | null)?.key;
  if (typeof key !== "string") {
    throw new KckError(
      "BAD_KEY",
      `A ${task} job needs a payload { key: string }; got ${JSON.stringify(payload)}.`,
    );
  }
  return key;
};

/** Whether some process holds the compute lock of a key (see src/sql/locks.ts tryLock). */
async function computing(engine: Engine, key: string): Promise<boolean> {
  return engine.db.transaction(async (tx) => !(await tryXactLock(tx, key)));
}

/**
 * KCK's graphile-worker tasks. A task that throws is retried by graphile-worker with
 * exponential backoff; a failed compute also records lastError on the product, whose last good
 * value keeps being served.
 */
export function createTasks(
  engine: Engine,
  log: Logger,
  store: StoreOptions | false = {},
): TaskList {
  // A job of a primer another deployment serves goes back to the queue for its workers.
  const elsewhere = async (payload: unknown, primer: string, helpers: JobHelpers) => {
    if (engine.primers.has(primer)) return false;
    await handOff(helpers, payload as Record<string, unknown>, primer, log);
    return true;
  };
  const primerOfKey = (key: string) => key.split("/", 1)[0] as string;
  return {
    [TASK.evict]: async () => {
      await runEviction(engine.db, engine.primers.values(), store, log);
    },
    [TASK.refresh]: async (payload, helpers) => {
      if (await elsewhere(payload, primerOfKey(keyOf(payload, TASK.refresh)), helpers)) return;
      const { key } = engine.parse(keyOf(payload, TASK.refresh));
      // A source change to a product nobody asked for leaves nothing to refresh. Unless it is
      // being computed for the first time right now: that compute may have read the data
      // from before the change, so it is followed by a refresh (which waits for its lock).
      if ((await engine.inspect(key)) === undefined && !(await computing(engine, key))) return;
      await engine.refresh(key);
    },
    [TASK.prime]: async (payload, helpers) => {
      if (await elsewhere(payload, primerOfKey(keyOf(payload, TASK.prime)), helpers)) return;
      await engine.freshen(keyOf(payload, TASK.prime));
    },
    [TASK.propagate]: async (payload, helpers) => {
      if (await elsewhere(payload, primerOfKey(keyOf(payload, TASK.propagate)), helpers)) return;
      await propagate(engine, log, keyOf(payload, TASK.propagate));
    },
    [TASK.schedule]: async (payload, helpers) => {
      const primer = (payload as { primer?: unknown } | null)?.primer;
      if (typeof primer !== "string") {
        throw new KckError(
          "BAD_CONFIG",
          `A schedule job needs a payload { primer: string }; got ${JSON.stringify(payload)}.`,
        );
      }
      if (await elsewhere(payload, primer, helpers)) return;
      await runSchedule(engine, log, payload as { primer: string }, helpers.job.run_at);
    },
  };
}
