import { type Queryable, quoteIdent } from "../db/db.ts";

/** How many jobs graphile-worker holds, by state. */
export interface QueueDepth {
  /** Due now and waiting for a worker. */
  ready: number;
  /** Due later (run_at in the future), including retries waiting out their backoff. */
  scheduled: number;
  /** Locked by a worker that is running them. */
  running: number;
  /** Out of attempts: kept for inspection, never run again. */
  failed: number;
}

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
  const jobs = `${quoteIdent(schema)}.jobs`;
  const { rows: found } = await q.query<{ exists: boolean }>(
    "select to_regclass($1) is not null as exists",
    [jobs],
  );
  if (found[0]?.exists !== true) return { ...EMPTY };
  // `jobs` is graphile-worker's public view (0.16+); its tables are private to it.
  const { rows } = await q.query<QueueDepth>(
    `select
       count(*) filter (where attempts < max_attempts and locked_at is null and run_at <= now())::int as ready,
       count(*) filter (where attempts < max_attempts and locked_at is null and run_at > now())::int as scheduled,
       count(*) filter (where attempts < max_attempts and locked_at is not null)::int as running,
       count(*) filter (where attempts >= max_attempts)::int as failed
     from ${jobs}`,
  );
  return rows[0] ?? { ...EMPTY };
}
