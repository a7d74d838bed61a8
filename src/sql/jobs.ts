import type { Queryable } from "../db/db.ts";
import { quoteIdent } from "../db/quote-ident.ts";
import type { JobState, JobStatus } from "../types.ts";

// graphile-worker's SQL API (`graphile_worker.add_job`, `force_unlock_workers`, the `jobs` view)
// and KCK's own enqueueing functions (migrations 000002, 000006). KCK calls graphile-worker's
// SQL functions rather than its WorkerUtils so that jobs are added on KCK's own connections,
// in the caller's transaction when there is one.

/**
 * Adds forced-refresh jobs for canonical keys after a change (`kck.enqueue_refreshes`): each
 * runs `delayMs` after the product's last compute at the earliest; a job already running gets
 * a successor, one in backoff keeps its backoff.
 */
export async function enqueueRefreshJobs(
  q: Queryable,
  keys: readonly string[],
  delayMs: number,
  maxAttempts: number,
): Promise<void> {
  await q.query("select kck.enqueue_refreshes($1::text[], $2, $3)", [keys, delayMs, maxAttempts]);
}

/** Adds forced-refresh jobs now for keys with no refresh job waiting, running or backing off. */
export async function enqueueScheduledJobs(
  q: Queryable,
  keys: readonly string[],
  maxAttempts: number,
): Promise<void> {
  await q.query("select kck.enqueue_scheduled($1::text[], $2)", [keys, maxAttempts]);
}

/** Adds prime jobs (compute unless fresh) for canonical keys. */
export async function enqueuePrimeJobs(
  q: Queryable,
  keys: readonly string[],
  maxAttempts: number,
): Promise<void> {
  await q.query("select kck.enqueue_primes($1::text[], $2)", [keys, maxAttempts]);
}

/** Adds a job with payload `{ key }` under `jobKey` (replacing one waiting), ten attempts. */
export async function addKeyJob(
  q: Queryable,
  task: string,
  key: string,
  jobKey: string,
): Promise<void> {
  await q.query(
    "select graphile_worker.add_job($1, json_build_object('key', $2::text), job_key => $3, max_attempts => 10)",
    [task, key, jobKey],
  );
}

/** Adds a job with payload `{}` under `jobKey`, one attempt, unless one is waiting already. */
export async function addSingletonJob(q: Queryable, task: string, jobKey: string): Promise<void> {
  await q.query(
    `select graphile_worker.add_job($1, '{}'::json, job_key => $2,
       job_key_mode => 'preserve_run_at', max_attempts => 1)`,
    [task, jobKey],
  );
}

/**
 * Adds a primer's job (payload `{ primer }`) to run in `inMs`, under `jobKey`; a job already
 * waiting under that key keeps its run time.
 */
export async function addPrimerJobUnlessWaiting(
  q: Queryable,
  task: string,
  primer: string,
  inMs: number,
  jobKey: string,
): Promise<void> {
  await q.query(
    `select graphile_worker.add_job($1, json_build_object('primer', $2::text),
       run_at => now() + make_interval(secs => $3 / 1000.0), job_key => $4,
       job_key_mode => 'preserve_run_at', max_attempts => 5)`,
    [task, primer, inMs, jobKey],
  );
}

/** Adds a primer's job (payload `{ primer }`) to run at `runAt`, replacing one under `jobKey`. */
export async function addPrimerJobAt(
  q: Queryable,
  task: string,
  primer: string,
  runAt: Date,
  jobKey: string,
): Promise<void> {
  await q.query(
    `select graphile_worker.add_job($1, json_build_object('primer', $2::text), run_at => $3,
       job_key => $4, job_key_mode => 'replace', max_attempts => 5)`,
    [task, primer, runAt, jobKey],
  );
}

/** The ids of the worker pools that hold jobs of these tasks locked. */
export async function poolsLockingJobs(q: Queryable, tasks: readonly string[]): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `select distinct locked_by as id from graphile_worker.jobs
     where locked_by is not null and task_identifier = any($1::text[])`,
    [tasks],
  );
  return rows.map((row) => row.id);
}

/** Unlocks the jobs (and queues) these worker pools hold, so that other workers run them. */
export async function forceUnlockWorkers(q: Queryable, pools: readonly string[]): Promise<void> {
  await q.query("select graphile_worker.force_unlock_workers($1::text[])", [pools]);
}

export type { JobState, JobStatus };

/**
 * The job under one of `jobKeys` (the earliest; one that can still run before one that
 * failed for good), or undefined when there is none.
 */
export async function jobByKeys(
  q: Queryable,
  jobKeys: readonly string[],
): Promise<JobState | undefined> {
  const { rows } = await q.query<JobState>(
    `select task_identifier as task, attempts, max_attempts as "maxAttempts",
       last_error as "lastError", run_at as "runAt",
       case when locked_at is not null then 'RUNNING'
            when attempts >= max_attempts then 'FAILED'
            when attempts > 0 then 'RETRYING'
            else 'WAITING' end as status
     from graphile_worker.jobs where key = any($1::text[])
     order by (attempts >= max_attempts), run_at limit 1`,
    [jobKeys],
  );
  return rows[0];
}

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

/**
 * Counts graphile-worker's jobs by state in one statement; undefined when the job queue's
 * schema is not installed in this database (no worker has ever migrated it).
 *
 * @param schema graphile-worker's schema.
 */
export async function countJobs(q: Queryable, schema: string): Promise<QueueDepth | undefined> {
  const jobs = `${quoteIdent(schema)}.jobs`;
  const { rows: found } = await q.query<{ exists: boolean }>(
    "select to_regclass($1) is not null as exists",
    [jobs],
  );
  if (found[0]?.exists !== true) return undefined;
  // `jobs` is graphile-worker's public view (0.16+); its tables are private to it.
  const { rows } = await q.query<QueueDepth>(
    `select
       count(*) filter (where attempts < max_attempts and locked_at is null and run_at <= now())::int as ready,
       count(*) filter (where attempts < max_attempts and locked_at is null and run_at > now())::int as scheduled,
       count(*) filter (where attempts < max_attempts and locked_at is not null)::int as running,
       count(*) filter (where attempts >= max_attempts)::int as failed
     from ${jobs}`,
  );
  return rows[0];
}
