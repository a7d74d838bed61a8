/** What one subscription over server-sent events has received so far. */
export interface SseCollected<T> {
  readonly values: T[];
  readonly errors: unknown[];
  /** Whether the event stream ended. */
  readonly ended: boolean;
  /** Resolves once `predicate` holds for the values received; rejects if the stream ends first. */
  until(predicate: (values: T[]) => boolean): Promise<void>;
  /** Closes the event stream. */
  stop(): void;
}

/** Subscribes over SSE (yoga's `text/event-stream`) and collects `data[field]` of every event. */
export function collectSse<T>(httpUrl: string, query: string, field: string): SseCollected<T> {
  const values: T[] = [];
  const errors: unknown[] = [];
  let ended = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const abort = new AbortController();
  const read = async (): Promise<void> => {
    const response = await fetch(httpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query }),
      signal: abort.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      text += decoder.decode(value, { stream: true });
      for (let boundary = text.indexOf("\n\n"); boundary >= 0; boundary = text.indexOf("\n\n")) {
        const data = text
          .slice(0, boundary)
          .split("\n")
          .find((line) => line.startsWith("data:"));
        text = text.slice(boundary + 2);
        if (data === undefined || data.trim() === "data:") continue;
        const result = JSON.parse(data.slice(5)) as {
          data?: Record<string, T>;
          errors?: unknown[];
        };
        if (result.errors) errors.push(...result.errors);
        const got = result.data?.[field];
        if (got !== undefined && got !== null) values.push(got);
        wake();
      }
    }
  };
  void read()
    .catch((error: Error) => {
      if (!abort.signal.aborted) errors.push(error.message);
    })
    .finally(() => {
      ended = true;
      wake();
    });
  return {
    values,
    errors,
    get ended() {
      return ended;
    },
    until(predicate) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (predicate(values)) {
            waiters.delete(check);
            resolve();
          } else if (ended || errors.length > 0) {
            waiters.delete(check);
            reject(
              new Error(
                `The event stream ended (${JSON.stringify(errors)}) after ${JSON.stringify(values)}.`,
              ),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
    stop: () => abort.abort(),
  };
}
