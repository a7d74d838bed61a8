import type { JobHelpers } from "graphile-worker";
import type { Logger } from "../logger.ts";

/** How many times a job is handed on before it is dropped as served by no process. */
export const MOST_HOPS = 50;

/**
 * Hands a job this process cannot run (its primer is served by another deployment on the same
 * database: every process shares the queue) back to the queue for another worker, with the
 * same task, payload and job key, so that later changes still fold into it. The first hops are
 * immediate (every idle worker is told of the new job); later ones wait a little longer each
 * time. Past {@link MOST_HOPS}, no live process serves the primer: the job is dropped, logged.
 */
export async function handOff(
  helpers: JobHelpers,
  payload: Record<string, unknown>,
  primer: string,
  log: Logger,
): Promise<void> {
  const hops = typeof payload["hops"] === "number" ? payload["hops"] : 0;
  const { job } = helpers;
  if (hops >= MOST_HOPS) {
    log.warn(
      { task: job.task_identifier, payload, primer },
      "dropped a job whose primer no running process serves",
    );
    return;
  }
  const waitMs = hops < 5 ? 0 : Math.min(5_000, 50 * 2 ** (hops - 5));
  await helpers.addJob(
    job.task_identifier,
    { ...payload, hops: hops + 1 },
    {
      ...(job.key ? { jobKey: job.key } : {}),
      runAt: new Date(Date.now() + waitMs),
      maxAttempts: job.max_attempts,
    },
  );
}
