import type pg from "pg";
import { connectClient } from "./db.ts";

/** Options for {@link holdLock}. */
export interface LockHolderOptions {
  /** The connection string. */
  url: string;
  /** The lock's name; the lock is `pg_advisory_lock(hashtextextended(name, 0))`. */
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
 * Holds an advisory lock for as long as this process lives: other sessions that can take the
 * lock know that the holder is gone, since PostgreSQL releases a session's locks when its
 * connection ends, even when the process was killed. A lost connection is re-established
 * (with jittered exponential backoff) and the lock taken again.
 */
export function holdLock(options: LockHolderOptions): LockHolder {
  const minDelay = options.minDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 5_000;
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let resolveHeld: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    resolveHeld = resolve;
  });

  const connect = async (): Promise<void> => {
    if (closed) return;
    let next: pg.Client | undefined;
    try {
      next = await connectClient(options.url, "kck-liveness");
      const current = next;
      current.on("error", (error) => lost(current, error));
      current.on("end", () => lost(current, new Error("The lock connection ended.")));
      await current.query("select pg_advisory_lock(hashtextextended($1, 0))", [options.name]);
      if (closed) {
        await current.end();
        return;
      }
      client = current;
      attempt = 0;
      resolveHeld();
    } catch (error) {
      next?.removeAllListeners("end");
      next?.end().catch(() => {});
      retry(error as Error);
    }
  };

  const lost = (which: pg.Client, error: Error): void => {
    if (closed || client !== which) return;
    client = undefined;
    which.removeAllListeners("end");
    which.end().catch(() => {});
    retry(error);
  };

  const retry = (error: Error): void => {
    if (closed) return;
    options.onError?.(error);
    attempt++;
    const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt, 20));
    timer = setTimeout(connect, Math.random() * ceiling);
  };

  void connect();

  return {
    held,
    async close() {
      closed = true;
      clearTimeout(timer);
      resolveHeld();
      const current = client;
      client = undefined;
      if (current) {
        current.removeAllListeners("end");
        await current.end().catch(() => {});
      }
    },
  };
}
