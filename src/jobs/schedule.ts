import { type ParsedCronItem, parseCronItems } from "graphile-worker";
import type { Queryable } from "../db/db.ts";
import type { Engine } from "../engine/engine.ts";
import { KckError, messageOf } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { addPrimerJobAt, addPrimerJobUnlessWaiting } from "../sql/jobs.ts";
import { computedAmong, computedKeysOf } from "../sql/products.ts";
import { keysReadWithin } from "../sql/reads.ts";
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
    await addPrimerJobUnlessWaiting(
      q,
      TASK.schedule,
      primer.name,
      everyMs,
      intervalJobKey(primer.name),
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
    return keysReadWithin(engine.db, primer.name, schedule.readWithinMs);
  }
  if (primer.paramNames.length === 0) return [primer.name];
  return computedKeysOf(engine.db, primer.name);
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
    await addPrimerJobAt(
      engine.db,
      TASK.schedule,
      primer.name,
      new Date(due),
      intervalJobKey(primer.name),
    );
  }
  const keys = await scheduledKeys(engine, primer);
  // Stored products are recomputed; the ones missing (from a domain) are computed: a refresh
  // job skips a product that was never stored.
  const stored = new Set(await computedAmong(engine.db, keys));
  await enqueueScheduled(engine.db, engine.primers, stored);
  await enqueuePrimes(
    engine.db,
    engine.primers,
    keys.filter((key) => !stored.has(key)),
  );
  log.debug({ primer: primer.name, products: keys.length }, "scheduled refresh");
}
