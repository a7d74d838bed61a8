import pg from "pg";

/** A connection pool for graphile-worker, which KCK owns and ends. */
export interface WorkerPool {
  /** The pool to hand graphile-worker as `pgPool`. */
  readonly pool: pg.Pool;
  /** Ends the pool once every connection is back; call after the runners have stopped. */
  close(): Promise<void>;
}

/**
 * A pool for graphile-worker's runners that outlives them. graphile-worker's own pool drops its
 * 'error' listener when its runner stops, before its connections are closed, and does not wait
 * for them: a server that went away in that moment (a database restart, an embedded server
 * stopped right after) made an idle connection's error an uncaught exception. This pool keeps
 * its listeners for its whole life, and `close` waits for its connections.
 */
export function createWorkerPool(options: {
  url: string;
  max: number;
  applicationName?: string;
  onError: (error: Error) => void;
}): WorkerPool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    application_name: options.applicationName ?? "kck-worker",
  });
  pool.on("error", options.onError);
  // A connection lost while a runner holds it fails that runner's query on its own.
  pool.on("connect", (client) => client.on("error", () => {}));
  let closed: Promise<void> | undefined;
  return {
    pool,
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
