import type { ExecutionResult } from "graphql";
import type WebSocket from "ws";
import type { ReadableSignal } from "../../types.ts";

const CLOSE = Buffer.from("}");

/**
 * Gives the JSON of a result as graphql-ws puts it in a `next` message's payload, as UTF-8: the
 * result without `errors`, then the errors (as `toJSON()` gives them) when there are any.
 */
export type NextPayloads = (result: ExecutionResult) => Buffer;

/**
 * Makes the `next` payloads of one WebSocket server, each once per result object: subscribers
 * with an identical operation share one result per version (use-shared-subscription-results.ts),
 * so this is one serialisation (and one UTF-8 encoding) per version and group, whatever the
 * number of subscribers.
 */
export function nextPayloads(): NextPayloads {
  const payloads = new WeakMap<object, Buffer>();
  return (result) => {
    let json = payloads.get(result);
    if (json === undefined) {
      const { errors, ...rest } = result;
      json = Buffer.from(
        JSON.stringify({
          ...rest,
          ...(errors ? { errors: errors.map((e) => (e.toJSON ? e.toJSON() : e)) } : {}),
        }),
      );
      payloads.set(result, json);
    }
    return json;
  };
}

/**
 * Takes over the `next` messages of one subscription on one graphql-ws socket: each result
 * is sent as `{"id":…,"type":"next","payload":…}` with the payload serialised once per result
 * (`payloadOf`, see {@link nextPayloads}), where graphql-ws would stringify the whole message
 * per subscriber. The iterator handed back to graphql-ws yields nothing and finishes when the
 * results do (graphql-ws then sends `complete`), rejects when they fail (graphql-ws sends
 * `error`), and its `return()` (the client's `complete`, or the socket closing) stops the
 * results. While the socket has unwritten bytes it takes no next result until a write
 * completes, so a slow socket holds back only its own subscription, whose hub stream then
 * skips to the latest version.
 */
export function sendNextMessages(
  results: AsyncIterable<ExecutionResult>,
  socket: WebSocket,
  id: string,
  payloadOf: NextPayloads,
  source?: ReadableSignal,
): AsyncIterableIterator<never> {
  const iterator = results[Symbol.asyncIterator]();
  const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
  let stopped = false;
  let finish: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const pumping = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // Whoever ends up not iterating (a client that completed at once) must not leave it unheard.
  pumping.catch(() => {});

  const sendOne = (result: ExecutionResult): void => {
    const payload = payloadOf(result);
    // One copy of bytes made once; a text frame, as graphql-ws sends.
    socket.send(
      Buffer.concat([prefix, payload, CLOSE], prefix.length + payload.length + 1),
      { binary: false },
      afterWrite,
    );
  };
  // Called when a result was sent and the socket is ready for the next.
  let ready: () => void = () => {};
  let held = false;
  // One callback for every send (no allocation per message): a send that could not be
  // written at once holds the next result back until it is.
  function afterWrite(): void {
    if (!held) return;
    held = false;
    ready();
  }
  const pull = (): void => {
    if (stopped) {
      finish();
      return;
    }
    iterator.next().then((step) => {
      if (step.done || stopped) {
        finish();
        return;
      }
      // A socket that is closing gets nothing more; graphql-ws ends the subscription.
      if (socket.readyState === socket.OPEN) sendOne(step.value);
      // Written to the kernel at once (the usual case): on to the next version. Otherwise wait
      // for the write, so that a slow client's versions pile up (and are skipped) in the hub's
      // bounded stream, not in its socket buffer.
      if (socket.bufferedAmount > 0) held = true;
      else ready();
    }, fail);
  };
  // With a source that says when it is readable, the next result is asked for only once it
  // is there: between versions nothing is pending but the source's callback, where a pending
  // next() would keep a chain of promises (one per layer: envelop's hooks, the shared results,
  // the hub stream) alive until the next version, into the old generation, per subscriber.
  ready = source ? () => source.whenReadable(pull) : pull;
  ready();

  const done = (): IteratorResult<never> => ({ value: undefined, done: true });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => pumping.then(done),
    async return() {
      stopped = true;
      await iterator.return?.();
      finish();
      return done();
    },
    async throw(error?: unknown) {
      stopped = true;
      await iterator.return?.();
      finish();
      throw error;
    },
  };
}
