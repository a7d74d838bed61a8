import type { Db } from "./db.ts";

/**
 * Runs `fn` while this process holds the session-level advisory lock `lock`, so that the
 * processes that start at once on one database run it one after another (a schema migration,
 * modules' `setup`: PostgreSQL's `create … if not exists` is not safe when two sessions run it at
 * the same moment). The lock sits on a connection of its own, held while `fn` uses any others.
 */
export async function exclusively<T>(db: Db, lock: number, fn: () => Promise<T>): Promise<T> {
  const session = await db.session();
  let broken: Error | undefined;
  try {
    await session.query("select pg_advisory_lock($1)", [lock]);
    try {
      return await fn();
    } finally {
      await session.query("select pg_advisory_unlock($1)", [lock]).catch((error: Error) => {
        broken = error;
      });
    }
  } finally {
    session.release(broken);
  }
}
