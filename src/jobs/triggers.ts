import type { Db, Queryable } from "../db/db.ts";
import { KckError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { declareTriggers } from "../sql/deployment.ts";
import { LOCK, xactLock } from "../sql/locks.ts";
import {
  installedSourceTriggers,
  installSourceTrigger,
  type SourceTrigger,
  sourceTrigger,
  tableExists,
} from "../sql/triggers.ts";

/** The names of the trigger functions these primers declare. */
export function declaredTriggerNames(primers: readonly AnyPrimer[]): Set<string> {
  return new Set(
    primers.flatMap((primer) => primer.policies.sources.map((s) => sourceTrigger(primer, s).name)),
  );
}

/**
 * Installs the source triggers every primer declares, additively and idempotently: a trigger
 * whose SQL is unchanged is left alone (no table lock taken), a changed one is replaced, and
 * none is ever dropped here, since another live deployment on the database may need triggers
 * this process does not declare (`kck migrate --prune` drops those nobody declares). Records,
 * in the same transaction, that `deployment` declares them, for that prune. Nothing is changed
 * unless every declared source table exists.
 *
 * @param deployment this process's id, whose liveness lock it holds ({@link holdDeployment}).
 * @returns the names of the trigger functions installed or replaced now.
 */
export async function installSourceTriggers(
  db: Db,
  primers: readonly AnyPrimer[],
  log: Logger,
  deployment: string,
): Promise<string[]> {
  const wanted = primers.flatMap((primer) =>
    primer.policies.sources.map((source) => sourceTrigger(primer, source)),
  );
  const upToDate = (
    installed: Awaited<ReturnType<typeof installedSourceTriggers>>,
    trigger: SourceTrigger,
  ) => {
    const row = installed.get(trigger.name);
    return row !== undefined && row.triggers === 4 && !!row.comment?.endsWith(trigger.fingerprint);
  };
  const declare = (q: Queryable) =>
    declareTriggers(
      q,
      deployment,
      wanted.map((t) => ({ trigger: t.name, primer: t.primer, source: t.table })),
    );
  if (wanted.length === 0) return [];
  const before = await installedSourceTriggers(db);
  if (wanted.every((t) => upToDate(before, t))) {
    await declare(db);
    return [];
  }
  return db.transaction(async (tx) => {
    await xactLock(tx, LOCK.sourceTriggers);
    const installed = await installedSourceTriggers(tx);
    const changed: string[] = [];
    for (const trigger of wanted) {
      if (upToDate(installed, trigger)) continue;
      if (!(await tableExists(tx, trigger.table))) {
        throw new KckError(
          "BAD_CONFIG",
          `Primer "${trigger.primer}" declares source table "${trigger.table}", which does not exist; create it first (a primer module's setup runs before the triggers are installed).`,
        );
      }
      await installSourceTrigger(tx, trigger);
      changed.push(trigger.name);
    }
    await declare(tx);
    if (changed.length > 0) log.info({ triggers: changed }, "installed source triggers");
    return changed;
  });
}
