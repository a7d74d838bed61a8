import type { Db, Queryable } from "../db/db.ts";

/**
 * KCK's fixed advisory locks, one per purpose. Any fixed numbers (PostgreSQL's advisory locks
 * share one keyspace per database): never reuse one for something else, since processes of
 * different versions may run at once.
 */
export const LOCK = {
  /** KCK's own migrations (transaction lock): two processes apply each one once. */
  migrations: 7_263_001,
  /** Installing and pruning source triggers (transaction lock). */
  sourceTriggers: 7_263_002,
  /** graphile-worker's migrations (session lock, {@link exclusively}). */
  queueMigrations: 7_263_003,
  /** The primer modules' `setup` functions (session lock, {@link exclusively}). */
  moduleSetups: 7_263_004,
  /**
   * Ending the freshness of products of older code at start (transaction lock): processes
   * starting at once would otherwise update the same rows in different orders (a large
   * table's sequential scans are synchronised, so each starts where another is) and deadlock.
   */
  codeChanges: 7_263_005,
} as const;

/** One of the fixed {@link LOCK}s. */
export type LockId = (typeof LOCK)[keyof typeof LOCK];

/**
 * The advisory lock id of a named lock, as SQL: `name` is an SQL text expression (`$1`, a
 * column). A product's compute lock is named by its key; the same spelling is in migration
 * 000005's `kck.lock_and_read` and `kck.read_or_lock`, which take that lock too.
 */
export const keyLockId = (name: string): string => `hashtextextended(${name}, 0)`;

/**
 * The names of KCK's named locks other than product keys, each held by `holdLock`
 * (./lock-holder.ts) and tried by {@link tryXactLock} to learn whether its holder is alive.
 */
export const lockName = {
  /** Held by a running process (its declared source triggers are kept). */
  deployment: (id: string): string => `kck-deployment:${id}`,
  /** Held by a live graphile-worker pool (its jobs are not reaped). */
  workerPool: (id: string): string => `kck-worker:${id}`,
};

const TRY_LOCK = `select pg_try_advisory_lock(${keyLockId("$1")}) as locked`;
const UNLOCK = `select pg_advisory_unlock(${keyLockId("$1")})`;
const TRY_XACT_LOCK = `select pg_try_advisory_xact_lock(${keyLockId("$1")}) as locked`;

/**
 * Takes the named lock (a product's compute lock: its key) without waiting. Session-level, so
 * that a process that dies mid-compute releases it with its connection.
 */
export async function tryLock(q: Queryable, name: string): Promise<boolean> {
  const { rows } = await q.query<{ locked: boolean }>(TRY_LOCK, [name], "kck_try_lock");
  return rows[0]?.locked === true;
}

/** Releases a lock taken by {@link tryLock} on the same session. */
export async function unlock(q: Queryable, name: string): Promise<void> {
  await q.query(UNLOCK, [name], "kck_unlock");
}

/**
 * Takes the named lock until the caller's transaction ends, without waiting: false when
 * another session holds it (a compute of the key, a live deployment or worker pool).
 */
export async function tryXactLock(tx: Queryable, name: string): Promise<boolean> {
  const { rows } = await tx.query<{ locked: boolean }>(TRY_XACT_LOCK, [name]);
  return rows[0]?.locked === true;
}

/** Waits for one of the fixed {@link LOCK}s and holds it until the caller's transaction ends. */
export async function xactLock(tx: Queryable, lock: LockId): Promise<void> {
  await tx.query("select pg_advisory_xact_lock($1)", [lock]);
}

/**
 * Runs `fn` while this process holds the session-level advisory lock `lock`, so that the
 * processes that start at once on one database run it one after another (a schema migration,
 * modules' `setup`: PostgreSQL's `create … if not exists` is not safe when two sessions run it at
 * the same moment). The lock sits on a connection of its own, held while `fn` uses any others.
 */
export async function exclusively<T>(db: Db, lock: LockId, fn: () => Promise<T>): Promise<T> {
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
