import type pg from "pg";
import { connectClient } from "./db.ts";

/** Options for {@link createListener}. */
export interface ListenerOptions {
  /** The connection string. */
  url: string;
  /** The NOTIFY channel to listen on. */
  channel: string;
  /** Called with each notification's payload. */
  onPayload: (payload: string) => void;
  /**
   * Called after the connection was lost and is listening again, so that callers can catch up
   * on what they may have missed meanwhile.
   */
  onReconnect?: () => void;
  /** Called when the connection fails (before each retry). */
  onError?: (error: Error) => void;
  /** First retry delay in ms. @default 100 */
  minDelayMs?: number;
  /** Longest retry delay in ms. @default 10000 */
  maxDelayMs?: number;
}

/** A LISTEN connection that stays up. */
export interface Listener {
  /** Resolves once the first LISTEN is in place. */
  readonly ready: Promise<void>;
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

/**
 * Listens on one dedicated connection and re-establishes it when it is lost. Retries back off
 * exponentially with full jitter, so that many instances losing the same server at once do
 * not reconnect in lock step and hammer it as it comes back.
 */
export function createListener(options: ListenerOptions): Listener {
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
    try {
      const next = await connectClient(options.url, "kck-listener");
      if (closed) {
        await next.end();
        return;
      }
      next.on("notification", (message) => {
        if (message.channel === options.channel && message.payload !== undefined) {
          options.onPayload(message.payload);
        }
      });
      next.on("error", (error) => lost(next, error));
      next.on("end", () => lost(next, new Error("The listening connection ended.")));
      await next.query(`listen ${options.channel}`);
      client = next;
      const reconnected = attempt > 0;
      attempt = 0;
      resolveReady();
      if (reconnected) options.onReconnect?.();
    } catch (error) {
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
