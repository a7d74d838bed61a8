import { keepConnection } from "./kept-connection.ts";

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
 * Listens on one dedicated connection, re-established with jittered backoff when it is lost
 * ({@link keepConnection}).
 */
export function createListener(options: ListenerOptions): Listener {
  const { channel, onPayload, ...rest } = options;
  return keepConnection({
    ...rest,
    applicationName: "kck-listener",
    async setup(client) {
      client.on("notification", (message) => {
        if (message.channel === channel && message.payload !== undefined)
          onPayload(message.payload);
      });
      await client.query(`listen ${channel}`);
    },
  });
}
