import { type Db, quoteIdent } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { forgetGoneDeployments } from "./deployment.ts";
import { declaredTriggerNames, INSTALL_LOCK, installedSourceTriggers } from "./triggers.ts";

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
    await tx.query("select pg_advisory_xact_lock($1)", [INSTALL_LOCK]);
    const gone = await forgetGoneDeployments(tx);
    if (gone.length > 0)
      log.info({ deployments: gone }, "forgot the declarations of gone processes");
    const { rows } = await tx.query<{ trigger: string }>(
      "select distinct trigger from kck.source_declarations",
    );
    const kept = declaredTriggerNames(primers);
    for (const { trigger } of rows) kept.add(trigger);
    const pruned: PrunedTrigger[] = [];
    for (const [name, { comment }] of await installedSourceTriggers(tx)) {
      if (kept.has(name)) continue;
      await tx.query(`drop function kck.${quoteIdent(name)}() cascade`);
      const description = (comment ?? "kck source trigger").replace(/; [^;]*$/, "");
      log.info({ trigger: name, description }, "dropped a source trigger nobody declares");
      pruned.push({ name, description });
    }
    return pruned;
  });
}
