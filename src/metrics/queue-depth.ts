import type { Queryable } from "../db/db.ts";
import { countJobs, type QueueDepth } from "../sql/jobs.ts";

export type { QueueDepth };

const EMPTY: QueueDepth = { ready: 0, scheduled: 0, running: 0, failed: 0 };

/**
 * Counts graphile-worker's jobs by state in one statement; all zero when the job queue's
 * schema is not installed in this database (no worker has ever migrated it).
 *
 * @param schema graphile-worker's schema. @default "graphile_worker"
 */
export async function readQueueDepth(
  q: Queryable,
  schema = "graphile_worker",
): Promise<QueueDepth> {
  return (await countJobs(q, schema)) ?? { ...EMPTY };
}
