import type { Queryable } from "../db/db.ts";
import type { JobState } from "../engine/ports.ts";
import { jobByKeys } from "../sql/jobs.ts";
import { primeJobKey, refreshJobKey } from "./queue.ts";

// The types belong to the engine's jobs port, whose `refreshJob` this implements.
export type { JobState, JobStatus } from "../engine/ports.ts";

/**
 * The job waiting or running for a product (the earliest, if a refresh and a prime both are),
 * or undefined when there is none. A job that failed for good stays visible, with its error,
 * until the next change asks for a new one.
 */
export function readJobState(q: Queryable, key: string): Promise<JobState | undefined> {
  return jobByKeys(q, [refreshJobKey(key), primeJobKey(key)]);
}
