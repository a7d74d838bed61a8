import type { Queryable } from "../db/db.ts";
import { primeJobKey, refreshJobKey } from "./queue.ts";

/** Where a product's background refresh stands in the job queue. */
export type JobStatus = "WAITING" | "RUNNING" | "RETRYING" | "FAILED";

/** The background job (refresh or prime) waiting or running for one product. */
export interface JobState {
  /** The graphile-worker task: kck_refresh or kck_prime. */
  readonly task: string;
  readonly status: JobStatus;
  /** Attempts so far (0 until it first fails). */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** The error of the last failed attempt. */
  readonly lastError: string | null;
  /** When it runs (next). */
  readonly runAt: Date;
}

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
