import type { ServerResponse } from "node:http";
import type { ExecutionResult, GraphQLError } from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";

const PING = Buffer.from(":\n\n");
const COMPLETE = Buffer.from("event: complete\ndata:\n\n");
const PING_MS = 12_000;

/** How many SSE streams are open, and how many events are written but not yet flushed. */
export interface SseStats {
  streams: number;
  /** Events handed to sockets that the kernel has not taken yet (at most one per stream). */
  unflushed: number;
}

/** The `event: next` message of a result, as yoga's SSE writes it (internal error fields left out). */
function eventOf(result: ExecutionResult): Buffer {
  const { errors, extensions, ...rest } = result;
  const { http: _http, ...ownExtensions } = (extensions ?? {}) as Record<string, unknown>;
  const json = JSON.stringify({
    ...rest,
    ...(errors ? { errors: errors.map(publicErrorJson) } : {}),
    ...(Object.keys(ownExtensions).length > 0 ? { extensions: ownExtensions } : {}),
  });
  return Buffer.from(`event: next\ndata: ${json}\n\n`);
}

function publicErrorJson(error: GraphQLError): unknown {
  const json = (error.toJSON ? error.toJSON() : error) as { extensions?: Record<string, unknown> };
  if (json.extensions === undefined) return json;
  const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions;
  const { extensions: _all, ...rest } = json;
  return Object.keys(extensions).length > 0 ? { ...rest, extensions } : rest;
}

/**
 * Delivers subscriptions over server-sent events with the WebSocket path's backpressure: the
 * next result is taken from the subscription only once the previous event was handed to the
 * kernel (the write's callback), so a paused or slow reader holds one event in this process and
 * its hub stream skips to the latest version (bounded, like a WebSocket subscriber's), instead
 * of versions piling up in stream and socket buffers. Yoga still writes the status, headers and
 * first ping (through its response); the events, pings and the final `complete` are written
 * here to the Node response, in yoga's SSE format.
 */
export function useSseDelivery(stats?: SseStats): Plugin {
  // The event of each result, made once per result object: subscribers with an identical
  // operation share one result per version (use-shared-subscription-results.ts), so this is one
  // serialisation per version and group, whatever the number of SSE subscribers.
  const events = new WeakMap<object, Buffer>();
  const eventOnce = (result: ExecutionResult): Buffer => {
    let event = events.get(result);
    if (event === undefined) {
      event = eventOf(result);
      events.set(result, event);
    }
    return event;
  };
  return {
    onResultProcess({ request, result, setResultProcessor, serverContext }) {
      const res = (serverContext as { res?: ServerResponse }).res;
      if (res === undefined || !isAsyncIterable(result)) return;
      if (!(request.headers.get("accept") ?? "").includes("text/event-stream")) return;
      setResultProcessor(
        (results, fetchAPI) =>
          new fetchAPI.Response(
            eventStream(results as AsyncIterable<ExecutionResult>, res, fetchAPI, eventOnce, stats),
            {
              status: 200,
              headers: {
                "content-type": "text/event-stream",
                connection: "keep-alive",
                "cache-control": "no-cache",
                "content-encoding": "none",
              },
            },
          ),
        "text/event-stream",
      );
    },
  };
}

/**
 * The response body: a first ping, then nothing more through the body while this module writes
 * the events to `res` itself; it closes when the subscription ends, and whatwg-node then ends
 * the response.
 */
function eventStream(
  results: AsyncIterable<ExecutionResult>,
  res: ServerResponse,
  fetchAPI: { ReadableStream: typeof ReadableStream },
  encode: (result: ExecutionResult) => Buffer,
  stats: SseStats | undefined,
): ReadableStream<Uint8Array> {
  const iterator = results[Symbol.asyncIterator]();
  let stopped = false;
  let ping: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(ping);
    void Promise.resolve(iterator.return?.()).catch(() => {});
  };
  /** Writes a chunk and resolves once the kernel has taken it (or the response is gone). */
  const write = (chunk: Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (stats) stats.unflushed++;
      res.write(chunk, () => {
        if (stats) stats.unflushed--;
        resolve();
      });
    });
  let pulls = 0;
  return new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(PING);
    },
    pull(controller) {
      // The first pull comes when yoga's writer took the ping: the headers go out with it. What
      // follows is written here, and the body stays silent until the end.
      if (pulls++ > 0) return undefined;
      if (stats) stats.streams++;
      res.once("close", stop);
      ping = setInterval(() => {
        if (res.writableLength === 0) res.write(PING);
      }, PING_MS);
      ping.unref();
      return new Promise<void>((resolve) => {
        // After yoga's writer has written the ping (its callback runs before this one).
        setImmediate(async () => {
          try {
            while (!res.headersSent && !stopped) await new Promise((next) => setImmediate(next));
            for (;;) {
              const step = await iterator.next();
              if (step.done || stopped || res.destroyed) break;
              await write(encode(step.value));
            }
            if (!stopped && !res.destroyed) await write(COMPLETE);
            controller.close();
          } catch (error) {
            controller.error(error);
          } finally {
            stop();
            if (stats) stats.streams--;
            resolve();
          }
        });
      });
    },
    cancel() {
      stop();
    },
  });
}
