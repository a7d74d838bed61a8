import type { Db } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { endFreshnessOfOtherCode } from "../sql/invalidations.ts";
import { LOCK, xactLock } from "../sql/locks.ts";

/**
 * Ends the freshness of the stored products that another version of their primer's code
 * computed: with `onCodeChange: "stale"` they are served stale (and refreshed in the background
 * when read), with "expire" the next read recomputes them before answering. Run at every start
 * (and on every reload of the primers), once the database is migrated; processes starting at
 * once take turns.
 *
 * @returns how many products each changed primer had.
 */
export async function markCodeChanges(
  db: Pick<Db, "transaction">,
  primers: Iterable<AnyPrimer>,
  log: Logger,
): Promise<Map<string, number>> {
  const current = [...primers].map((primer) => ({
    primer: primer.name,
    codeVersion: primer.codeVersion,
    expire: primer.onCodeChange === "expire",
  }));
  const marked = new Map<string, number>();
  const rows = await db.transaction(async (tx) => {
    await xactLock(tx, LOCK.codeChanges);
    return endFreshnessOfOtherCode(tx, current);
  });
  for (const { primer, count } of rows) marked.set(primer, count);
  if (marked.size > 0) {
    log.info(
      { primers: Object.fromEntries(marked) },
      "the code of some primers changed: their stored products are no longer fresh",
    );
  }
  return marked;
}
