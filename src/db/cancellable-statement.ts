import type pg from "pg";

/** What {@link runCancellable} needs: where to run the statement, and how to reach the server. */
export interface CancellableTarget {
  /** The pool of compute statements (kept apart from the query pool). */
  readonly pool: pg.Pool;
  /** Opens a connection of its own, for the cancel (the pool may be full of what it cancels). */
  readonly connect: () => Promise<pg.Client>;
  /**
   * How long a cancelled statement may go on before its backend is terminated instead.
   * @default 5000
   */
  readonly terminateAfterMs?: number;
}

/**
 * Runs one statement on a connection of `target.pool`, and when `signal` aborts while it runs
 * asks PostgreSQL to cancel it (`pg_cancel_backend` on its backend's pid, from a connection of
 * its own; `pg_terminate_backend` if it still runs `terminateAfterMs` later). The promise
 * settles only once the server has stopped the statement, so whoever waits for it knows that
 * nothing of it still runs. A connection whose statement was cancelled is destroyed rather than
 * reused: a cancel that reaches its backend late must not hit the next user's statement.
 */
export async function runCancellable<R extends pg.QueryResultRow>(
  target: CancellableTarget,
  text: string,
  values: unknown[] | undefined,
  signal: AbortSignal,
): Promise<pg.QueryResult<R>> {
  signal.throwIfAborted();
  const client = await target.pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost ??= error;
  };
  client.on("error", onError);
  let stopping: Promise<void> | undefined;
  const running = { done: false };
  const onAbort = () => {
    stopping = stopBackend(target, processIdOf(client), running);
  };
  try {
    // Aborted while waiting for the connection: the statement is never sent.
    signal.throwIfAborted();
    signal.addEventListener("abort", onAbort, { once: true });
    return await client.query<R>(text, values);
  } finally {
    running.done = true;
    signal.removeEventListener("abort", onAbort);
    await stopping;
    client.off("error", onError);
    client.release(
      lost ??
        (stopping ? new Error("The statement was cancelled: its connection goes.") : undefined),
    );
  }
}

/** The backend pid of a pg client (set by the server's BackendKeyData at connect). */
function processIdOf(client: pg.PoolClient): number {
  return (client as unknown as { processID: number }).processID;
}

async function stopBackend(
  target: CancellableTarget,
  pid: number,
  running: { done: boolean },
): Promise<void> {
  try {
    const admin = await target.connect();
    try {
      await admin.query("select pg_cancel_backend($1)", [pid]);
      // A statement that ignores the cancel (a blocked write, say) still must not outlive its
      // compute: its backend goes after a while.
      const deadline = Date.now() + (target.terminateAfterMs ?? 5000);
      while (!running.done && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (!running.done) await admin.query("select pg_terminate_backend($1)", [pid]);
    } finally {
      await admin.end();
    }
  } catch {
    // The server cannot be reached: the statement is gone with it, or goes with its connection.
  }
}
