import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

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
  const values: T[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const stop = client.subscribe<Record<string, T>>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        const value = result.data?.[field];
        if (value !== undefined) values.push(value);
        wake();
      },
      error: (error) => {
        errors.push(error);
        wake();
      },
      complete: () => {
        completed = true;
        wake();
      },
    },
  );
  return {
    values,
    errors,
    get completed() {
      return completed;
    },
    until(predicate) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (predicate(values)) {
            waiters.delete(check);
            resolve();
          } else if (completed || errors.length > 0) {
            waiters.delete(check);
            reject(
              new Error(
                `The subscription ended (${JSON.stringify(errors)}) after ${JSON.stringify(values)}.`,
              ),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
    stop,
  };
}
