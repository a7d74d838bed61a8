import { keepConnection } from "../db/kept-connection.ts";
import { keyLockId } from "./locks.ts";

// Apart from ./locks.ts, which the primer loader imports: this one opens connections (pg).

const LOCK_SESSION = `select pg_advisory_lock(${keyLockId("$1")})`;

/** Options for {@link holdLock}. */
export interface LockHolderOptions {
  /** The connection string. */
  url: string;
  /** The lock's name (`lockName` in ./locks.ts), as `tryXactLock` there names it. */
  name: string;
  /** Called when the connection fails (before each retry). */
  onError?: (error: Error) => void;
  /** First retry delay in ms. @default 100 */
  minDelayMs?: number;
  /** Longest retry delay in ms. @default 5000 */
  maxDelayMs?: number;
}

/** A session-level advisory lock held on a connection of its own. */
export interface LockHolder {
  /** Resolves once the lock is held for the first time. */
  readonly held: Promise<void>;
  /** Releases the lock by closing its connection. */
  close(): Promise<void>;
}

/**
 * Holds a named lock for as long as this process lives: other sessions that can take the
 * lock (`tryXactLock`) know that the holder is gone, since PostgreSQL releases a
 * session's locks when its connection ends, even when the process was killed. A lost
 * connection is re-established with jittered backoff ({@link keepConnection}) and the lock
 * taken again.
 */
export function holdLock(options: LockHolderOptions): LockHolder {
  const { name, ...rest } = options;
  const kept = keepConnection({
    ...rest,
    maxDelayMs: options.maxDelayMs ?? 5_000,
    applicationName: "kck-liveness",
    setup: async (client) => {
      await client.query(LOCK_SESSION, [name]);
    },
  });
  return { held: kept.ready, close: kept.close };
}
