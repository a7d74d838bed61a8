import { createListener, type Listener } from "../db/listener.ts";
import type { Logger } from "../logger.ts";
import { type ChangeEvent, EVENTS_CHANNEL } from "../sql/notify.ts";

/** Options for {@link ChangeEvents}. */
export interface ChangeEventsOptions {
  log: Logger;
  /** Called when the connection is lost (before each retry): events may be missed until it is back. */
  onLost: () => void;
}

/**
 * The change events this instance hears, from every instance on the database (one NOTIFY per
 * write, src/sql/notify.ts), on one dedicated connection (src/db/listener.ts) that reconnects
 * with backoff. Each event goes to every `onChange` handler in the order they were added; after
 * a reconnect, every `onReconnect` handler is told that events may have been missed.
 */
export class ChangeEvents {
  private readonly changeHandlers = new Set<(event: ChangeEvent) => void>();
  private readonly reconnectHandlers = new Set<() => void>();
  private listener: Listener | undefined;

  constructor(private readonly options: ChangeEventsOptions) {}

  /** Starts listening on the events channel of the database at `url`; resolves once it does. */
  async listen(url: string): Promise<void> {
    this.listener = createListener({
      url,
      channel: EVENTS_CHANNEL,
      onPayload: (payload) => this.onEvent(payload),
      onReconnect: () => {
        for (const handler of this.reconnectHandlers) handler();
      },
      onError: (error) => {
        this.options.onLost();
        this.options.log.warn({ err: error }, "change-event connection lost; reconnecting");
      },
    });
    await this.listener.ready;
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    await this.listener?.close();
  }

  /** Calls `handler` with every change event; returns what removes it. */
  onChange(handler: (event: ChangeEvent) => void): () => void {
    this.changeHandlers.add(handler);
    return () => this.changeHandlers.delete(handler);
  }

  /** Calls `handler` after the connection was lost and is back; returns what removes it. */
  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  private onEvent(payload: string): void {
    let event: ChangeEvent;
    try {
      event = JSON.parse(payload) as ChangeEvent;
    } catch {
      this.options.log.warn(
        { payload: payload.slice(0, 200) },
        "ignored a change event that is not JSON",
      );
      return;
    }
    for (const handler of this.changeHandlers) {
      try {
        handler(event);
      } catch (error) {
        this.options.log.error({ err: error }, "a change-event handler failed");
      }
    }
  }
}
