import type pg from "pg";
import { connectClient } from "./db.ts";

/** Options for {@link keepConnection}. */
export interface KeptConnectionOptions {
  /** The connection string. */
  url: string;
  /** Sent as application_name, so the connection can be told apart in pg_stat_activity. */
  applicationName: string;
  /** Prepares each new connection (LISTEN, take a lock); a failure counts as a lost connection. */
  setup: (client: pg.Client) => Promise<void>;
  /** Called once a connection is set up again after one was lost. */
  onReconnect?: () => void;
  /** Called when the connection fails (before each retry). */
  onError?: (error: Error) => void;
  /** First retry delay in ms. @default 100 */
  minDelayMs?: number;
  /** Longest retry delay in ms. @default 10000 */
  maxDelayMs?: number;
}

/** A dedicated connection that stays up. */
export interface KeptConnection {
  /** Resolves once the first connection is set up (or when closed first). */
  readonly ready: Promise<void>;
  /** Stops reconnecting and closes the connection. */
  close(): Promise<void>;
}

/**
 * Keeps one dedicated connection up, re-establishing it when it is lost. Retries back off
 * exponentially with full jitter, so that many instances losing the same server at once do
 * not reconnect in lock step and hammer it as it comes back.
 */
export function keepConnection(options: KeptConnectionOptions): KeptConnection {
  const minDelay = options.minDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 10_000;
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  const connect = async (): Promise<void> => {
    if (closed) return;
    let next: pg.Client | undefined;
    try {
      next = await connectClient(options.url, options.applicationName);
      const current = next;
      current.on("error", (error) => lost(current, error));
      current.on("end", () => lost(current, new Error("The dedicated connection ended.")));
      await options.setup(current);
      if (closed) {
        current.removeAllListeners("end");
        await current.end();
        return;
      }
      client = current;
      const reconnected = attempt > 0;
      attempt = 0;
      resolveReady();
      if (reconnected) options.onReconnect?.();
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
    ready,
    async close() {
      closed = true;
      clearTimeout(timer);
      resolveReady();
      const current = client;
      client = undefined;
      if (current) {
        current.removeAllListeners("end");
        await current.end().catch(() => {});
      }
    },
  };
}
