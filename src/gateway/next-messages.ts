import type { ExecutionResult } from "graphql";
import type WebSocket from "ws";

// The JSON of each result's `next` payload, made once per result object: subscribers with an
// identical operation share one result per version (use-shared-subscription-results.ts), so
// this is one serialisation per version and group, whatever the number of subscribers.
const payloads = new WeakMap<object, string>();

/**
 * The JSON of a result as graphql-ws puts it in a `next` message's payload: the result
 * without `errors`, then the errors (as `toJSON()` gives them) when there are any.
 */
export function nextPayload(result: ExecutionResult): string {
  let json = payloads.get(result);
  if (json === undefined) {
    const { errors, ...rest } = result;
    json = JSON.stringify({
      ...rest,
      ...(errors ? { errors: errors.map((e) => (e.toJSON ? e.toJSON() : e)) } : {}),
    });
    payloads.set(result, json);
  }
  return json;
}

/** Sends one message; resolves once it is written (nothing is sent on a closing socket). */
function send(socket: WebSocket, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.readyState !== socket.OPEN) return resolve();
    socket.send(data, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Takes over the `next` messages of one subscription on one graphql-ws socket: each result
 * is sent as `{"id":…,"type":"next","payload":…}` with the payload serialised once per result
 * (above), where graphql-ws would stringify the whole message per subscriber. The iterator
 * handed back to graphql-ws yields nothing and finishes when the results do (graphql-ws then
 * sends `complete`), rejects when they fail (graphql-ws sends `error`), and its `return()`
 * (the client's `complete`, or the socket closing) stops the results. Like graphql-ws, it
 * writes one message at a time, so a slow socket holds back only its own subscription, whose
 * hub stream then skips to the latest version.
 */
export function sendNextMessages(
  results: AsyncIterable<ExecutionResult>,
  socket: WebSocket,
  id: string,
): AsyncIterableIterator<never> {
  const iterator = results[Symbol.asyncIterator]();
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  let stopped = false;
  const pumping = (async () => {
    while (!stopped) {
      const step = await iterator.next();
      if (step.done || stopped) return;
      await send(socket, `${prefix}${nextPayload(step.value)}}`);
    }
  })();
  // Whoever ends up not iterating (a client that completed at once) must not leave it unheard.
  pumping.catch(() => {});
  const done = (): IteratorResult<never> => ({ value: undefined, done: true });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => pumping.then(done),
    async return() {
      stopped = true;
      await iterator.return?.();
      return done();
    },
    async throw(error?: unknown) {
      stopped = true;
      await iterator.return?.();
      throw error;
    },
  };
}
