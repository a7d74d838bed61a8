import type { TaskList } from "graphile-worker";
import type { Engine } from "../engine/engine.ts";
import { KckError } from "../errors.ts";
import type { Logger } from "../logger.ts";
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

/**
 * KCK's graphile-worker tasks. A task that throws is retried by graphile-worker with
 * exponential backoff; a failed compute also records lastError on the product, whose last good
 * value keeps being served.
 */
export function createTasks(engine: Engine, log: Logger): TaskList {
  return {
    [TASK.refresh]: async (payload) => {
      await engine.refresh(keyOf(payload, TASK.refresh));
    },
    [TASK.prime]: async (payload) => {
      await engine.freshen(keyOf(payload, TASK.prime));
    },
    [TASK.propagate]: async (payload) => {
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
      await runSchedule(engine, log, payload as { primer: string }, helpers.job.run_at);
    },
  };
}
