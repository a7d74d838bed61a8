import type { Queryable } from "../db/db.ts";
import type { JobState } from "../engine/ports.ts";
import { primeJobKey, refreshJobKey } from "./queue.ts";

// The types belong to the engine's jobs port, whose `refreshJob` this implements.
export type { JobState, JobStatus } from "../engine/ports.ts";

/**
 * The job waiting or running for a product (the earliest, if a refresh and a prime both are),
 * or undefined when there is none. A job that failed for good stays visible, with its error,
 * until the next change asks for a new one.
 */
export async function readJobState(q: Queryable, key: string): Promise<JobState | undefined> {
  const { rows } = await q.query<JobState>(
    `select task_identifier as task, attempts, max_attempts as "maxAttempts",
       last_error as "lastError", run_at as "runAt",
       case when locked_at is not null then 'RUNNING'
            when attempts >= max_attempts then 'FAILED'
            when attempts > 0 then 'RETRYING'
            else 'WAITING' end as status
     from graphile_worker.jobs where key = any($1::text[])
     order by (attempts >= max_attempts), run_at limit 1`,
    [[refreshJobKey(key), primeJobKey(key)]],
  );
  return rows[0];
}
