import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { Arrivals } from "./arrivals.ts";

/** A graphql-ws client on a gateway's GraphQL URL (http:// becomes ws://). */
export function wsClient(httpUrl: string): Client {
  return createClient({
    url: httpUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
}

/** What one subscription has received so far. */
export interface Collected<T> {
  readonly values: T[];
  readonly errors: unknown[];
  /** Whether the server completed the subscription. */
  readonly completed: boolean;
  /** Resolves once `predicate` holds for the values received. */
  until(predicate: (values: T[]) => boolean): Promise<void>;
  /** Ends the subscription. */
  stop(): void;
}

/** Subscribes over graphql-ws and collects `data[field]` of every result. */
export function collect<T>(
  client: Client,
  query: string,
  field: string,
  variables?: Record<string, unknown>,
): Collected<T> {
  const got = new Arrivals<T>("subscription");
  const stop = client.subscribe<Record<string, T>>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (result) => {
        if (result.errors) got.errors.push(...result.errors);
        const value = result.data?.[field];
        if (value !== undefined) got.values.push(value);
        got.wake();
      },
      error: (error) => {
        got.errors.push(error);
        got.wake();
      },
      complete: () => {
        got.ended = true;
        got.wake();
      },
    },
  );
  return {
    values: got.values,
    errors: got.errors,
    get completed() {
      return got.ended;
    },
    until: (predicate) => got.until(predicate),
    stop,
  };
}
