import { type ParsedCronItem, parseCronItems } from "graphile-worker";
import type { Queryable } from "../db/db.ts";
import type { Engine } from "../engine/engine.ts";
import { KckError, messageOf } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { enqueuePrimes, enqueueScheduled, TASK } from "./queue.ts";

/** The payload of a schedule job: which primer, and `_cron` when graphile's cron added it. */
export interface SchedulePayload {
  primer: string;
  _cron?: unknown;
}

const intervalJobKey = (primer: string) => `kck:schedule:${primer}`;

/**
 * Makes sure every primer with an interval schedule has its schedule job waiting. One job per
 * primer across all processes (its job key); an existing one keeps its run time, so that
 * restarts neither skip nor repeat a tick.
 */
export async function ensureSchedules(q: Queryable, primers: readonly AnyPrimer[]): Promise<void> {
  for (const primer of primers) {
    const everyMs = primer.policies.schedule?.everyMs;
    if (everyMs === undefined) continue;
    await q.query(
      `select graphile_worker.add_job($1, json_build_object('primer', $2::text),
         run_at => now() + make_interval(secs => $3 / 1000.0), job_key => $4,
         job_key_mode => 'preserve_run_at', max_attempts => 5)`,
      [TASK.schedule, primer.name, everyMs, intervalJobKey(primer.name)],
    );
  }
}

/** The graphile-worker cron items of primers scheduled by a cron expression. */
export function cronItems(primers: readonly AnyPrimer[]): ParsedCronItem[] {
  return primers.flatMap((primer) => {
    const cron = primer.policies.schedule?.cron;
    if (cron === undefined) return [];
    try {
      return parseCronItems([
        {
          task: TASK.schedule,
          match: cron,
          identifier: `kck:cron:${primer.name}`,
          payload: { primer: primer.name },
          options: { backfillPeriod: 0, maxAttempts: 5, jobKey: `kck:cron:${primer.name}` },
        },
      ]);
    } catch (error) {
      throw new KckError(
        "BAD_CONFIG",
        `Primer "${primer.name}" has schedule.cron "${cron}", which is not a valid cron expression (five fields: minute hour day month weekday): ${messageOf(error)}`,
      );
    }
  });
}

/** The canonical keys a scheduled refresh of `primer` covers. */
async function scheduledKeys(engine: Engine, primer: AnyPrimer): Promise<string[]> {
  const schedule = primer.policies.schedule;
  if (schedule?.domain) {
    const params = await schedule.domain({
      sql: async (text, values) => (await engine.db.query(text, values)).rows as never,
    });
    return params.map((p) => engine.resolve(primer, p).key);
  }
  if (schedule?.readWithinMs !== undefined) {
    const { rows } = await engine.db.query<{ key: string }>(
      `select key from kck.products
       where primer = $1 and read_at > now() - make_interval(secs => $2 / 1000.0)`,
      [primer.name, schedule.readWithinMs],
    );
    return rows.map((row) => row.key);
  }
  if (primer.paramNames.length === 0) return [primer.name];
  const { rows } = await engine.db.query<{ key: string }>(
    "select key from kck.products where primer = $1 and computed_at is not null",
    [primer.name],
  );
  return rows.map((row) => row.key);
}

/**
 * Runs one tick of a primer's schedule: books the next interval tick first (so that a crash
 * mid-tick cannot end the schedule), then adds a refresh job for every product it covers.
 */
export async function runSchedule(
  engine: Engine,
  log: Logger,
  payload: SchedulePayload,
  runAt: Date,
): Promise<void> {
  const primer = engine.primers.get(payload.primer);
  if (primer === undefined) {
    log.warn({ primer: payload.primer }, "a schedule names a primer not served here; dropped");
    return;
  }
  const everyMs = primer.policies.schedule?.everyMs;
  if (payload._cron === undefined && everyMs === undefined) {
    log.info({ primer: primer.name }, "a primer's interval schedule was removed; dropped");
    return;
  }
  if (payload._cron === undefined && everyMs !== undefined) {
    // The next tick keeps to the grid of the first one, unless the worker fell behind.
    let due = runAt.getTime() + everyMs;
    if (due <= Date.now()) due = Date.now() + everyMs;
    await engine.db.query(
      `select graphile_worker.add_job($1, json_build_object('primer', $2::text), run_at => $3,
         job_key => $4, job_key_mode => 'replace', max_attempts => 5)`,
      [TASK.schedule, primer.name, new Date(due), intervalJobKey(primer.name)],
    );
  }
  const keys = await scheduledKeys(engine, primer);
  // Stored products are recomputed; the ones missing (from a domain) are computed: a refresh
  // job skips a product that was never stored.
  const { rows } = await engine.db.query<{ key: string }>(
    "select key from kck.products where key = any($1::text[]) and computed_at is not null",
    [keys],
  );
  const stored = new Set(rows.map((row) => row.key));
  await enqueueScheduled(engine.db, engine.primers, stored);
  await enqueuePrimes(
    engine.db,
    engine.primers,
    keys.filter((key) => !stored.has(key)),
  );
  log.debug({ primer: primer.name, products: keys.length }, "scheduled refresh");
}
