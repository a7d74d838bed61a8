import type { Db, Queryable } from "../db/db.ts";

/**
 * Runs `fn` in one transaction on a connection of the session pool, and rolls back if it
 * throws. Augments wait there for a key's lock, which a compute may hold while its own
 * statements use the query pool: waiting on the query pool instead could take every one of
 * its connections and leave that compute, and so the lock, stuck.
 */
export async function sessionTransaction<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const session = await db.session();
  try {
    await session.query("begin");
    const result = await fn(session);
    await session.query("commit");
    session.release();
    return result;
  } catch (error) {
    // A failed rollback means the connection is broken: destroy it rather than reuse it.
    await session.query("rollback").then(
      () => session.release(),
      (rollbackError: Error) => session.release(rollbackError),
    );
    throw error;
  }
}
