import { Arrivals } from "./arrivals.ts";

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
  const got = new Arrivals<T>("event stream");
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
        if (result.errors) got.errors.push(...result.errors);
        const value = result.data?.[field];
        if (value !== undefined && value !== null) got.values.push(value);
        got.wake();
      }
    }
  };
  void read()
    .catch((error: Error) => {
      if (!abort.signal.aborted) got.errors.push(error.message);
    })
    .finally(() => {
      got.ended = true;
      got.wake();
    });
  return {
    values: got.values,
    errors: got.errors,
    get ended() {
      return got.ended;
    },
    until: (predicate) => got.until(predicate),
    stop: () => abort.abort(),
  };
}
