import type { Db } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { declaredTriggers } from "../sql/deployment.ts";
import { LOCK, xactLock } from "../sql/locks.ts";
import { dropSourceTrigger, installedSourceTriggers } from "../sql/triggers.ts";
import { forgetGoneDeployments } from "./deployment.ts";
import { declaredTriggerNames } from "./triggers.ts";

/** A source trigger dropped by {@link pruneSourceTriggers}. */
export interface PrunedTrigger {
  /** Its function's name in schema kck. */
  readonly name: string;
  /** What it served, as its comment says ("kck source trigger of primer … on …"). */
  readonly description: string;
}

/**
 * Drops the source triggers that nobody declares any more: neither `primers` (the pruning
 * command's own) nor any live process (one holding its deployment lock). Forgets the
 * declarations of processes that are gone. Logs each trigger it drops.
 *
 * @returns the triggers dropped.
 */
export async function pruneSourceTriggers(
  db: Db,
  primers: readonly AnyPrimer[],
  log: Logger,
): Promise<PrunedTrigger[]> {
  return db.transaction(async (tx) => {
    await xactLock(tx, LOCK.sourceTriggers);
    const gone = await forgetGoneDeployments(tx);
    if (gone.length > 0)
      log.info({ deployments: gone }, "forgot the declarations of gone processes");
    const kept = declaredTriggerNames(primers);
    for (const trigger of await declaredTriggers(tx)) kept.add(trigger);
    const pruned: PrunedTrigger[] = [];
    for (const [name, { comment }] of await installedSourceTriggers(tx)) {
      if (kept.has(name)) continue;
      await dropSourceTrigger(tx, name);
      const description = (comment ?? "kck source trigger").replace(/; [^;]*$/, "");
      log.info({ trigger: name, description }, "dropped a source trigger nobody declares");
      pruned.push({ name, description });
    }
    return pruned;
  });
}
