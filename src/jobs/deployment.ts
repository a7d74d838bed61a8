import { randomUUID } from "node:crypto";
import type { Queryable } from "../db/db.ts";
import type { Logger } from "../logger.ts";
import { declaringDeployments, forgetDeclarations } from "../sql/deployment.ts";
import { holdLock, type LockHolder } from "../sql/lock-holder.ts";
import { lockName, tryXactLock } from "../sql/locks.ts";

/** One running process's identity on the database, alive while it holds its lock. */
export interface Deployment {
  /** A random id, new at each start. */
  readonly id: string;
  /** Resolves once the lock is held. */
  readonly held: Promise<void>;
  /** Releases the lock (the process no longer declares anything). */
  close(): Promise<void>;
}

/**
 * Holds this process's deployment lock on a connection of its own, for as long as it runs:
 * the source triggers it declared are kept by `kck migrate --prune` while the lock is held,
 * and PostgreSQL frees it when the process dies, however it dies.
 */
export function holdDeployment(url: string, log: Logger): Deployment {
  const id = randomUUID();
  const holder: LockHolder = holdLock({
    url,
    name: lockName.deployment(id),
    onError: (error) => log.warn({ err: error, deployment: id }, "deployment lock lost"),
  });
  return { id, held: holder.held, close: () => holder.close() };
}

/**
 * Deletes the source declarations of deployments whose lock is free (the process is gone),
 * in the caller's transaction (their locks are taken until it ends).
 *
 * @returns the ids of the deployments found gone.
 */
export async function forgetGoneDeployments(tx: Queryable): Promise<string[]> {
  const gone: string[] = [];
  for (const deployment of await declaringDeployments(tx)) {
    if (await tryXactLock(tx, lockName.deployment(deployment))) gone.push(deployment);
  }
  if (gone.length > 0) await forgetDeclarations(tx, gone);
  return gone;
}
