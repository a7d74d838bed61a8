import WebSocket from "ws";

/** What {@link openSubscribers} opens. */
export interface SubscribersOptions {
  /** The gateway's GraphQL URL (http:// becomes ws://). */
  url: string;
  /** How many sockets, each with one subscription. */
  count: number;
  /** Sockets being opened at once. @default 100 */
  concurrency?: number;
  /** The subscription every socket runs. */
  query: string;
  variables?: Record<string, unknown>;
}

/** One round's deliveries: when each socket got its message, and what it got. */
export interface Delivery {
  /** performance.now() of each socket's first message of the round. */
  readonly at: readonly number[];
  /** Each socket's first message of the round, as received. */
  readonly messages: readonly Buffer[];
}

/** Many graphql-ws subscribers in this process, each on its own socket. */
export interface Subscribers {
  /** The first message every socket got (the current value). */
  readonly first: readonly Buffer[];
  /**
   * Starts a round: resolves once every socket has received one more message, with their
   * times on this process's clock. Call it before the change is made.
   */
  round(): Promise<Delivery>;
  /** Messages that arrived beyond one per socket and round so far (there should be none). */
  readonly extra: number;
  /** Closes every socket. */
  close(): void;
}

interface Socket {
  readonly ws: WebSocket;
  at: number;
  message: Buffer | undefined;
}

// The subscription's id: every socket uses the same one (ids are per connection), so all
// sockets should receive byte-identical messages and checking them is a Buffer compare.
const ID = "1";

/**
 * Opens `count` raw WebSocket clients speaking the graphql-ws protocol (connection_init,
 * subscribe, next) with bounded concurrency, and resolves once each has its first value. Raw
 * `ws` sockets rather than the graphql-ws client keep the load generator's cost per message
 * to one frame parse and one timestamp.
 */
export async function openSubscribers(options: SubscribersOptions): Promise<Subscribers> {
  const url = options.url.replace(/^http/, "ws");
  const subscribe = JSON.stringify({
    id: ID,
    type: "subscribe",
    payload: {
      query: options.query,
      ...(options.variables ? { variables: options.variables } : {}),
    },
  });
  const sockets: Socket[] = [];
  let expected = 0;
  let received = 0;
  let extra = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
    wake?.();
  };

  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
      const socket: Socket = { ws, at: 0, message: undefined };
      let ready = false;
      ws.once("open", () => ws.send('{"type":"connection_init"}'));
      ws.once("error", (error) => (ready ? fail(error) : reject(error)));
      ws.once("close", (code, reason) => {
        const error = new Error(`A subscriber's socket closed: ${code} ${reason.toString()}.`);
        if (ready) fail(error);
        else reject(error);
      });
      ws.on("message", (data: Buffer) => {
        if (!ready) {
          // The ack, then the first value: only then is the subscriber counted as open.
          if (socket.message === undefined && data.includes('"connection_ack"')) {
            socket.message = Buffer.alloc(0);
            ws.send(subscribe);
            return;
          }
          if (!data.includes('"next"')) {
            reject(new Error(`A subscriber got ${data.toString().slice(0, 300)} first.`));
            return;
          }
          socket.message = data;
          ready = true;
          resolve();
          return;
        }
        if (socket.at !== 0) {
          extra++;
          return;
        }
        socket.at = performance.now();
        socket.message = data;
        if (++received === expected) wake?.();
      });
      sockets.push(socket);
    });

  const concurrency = options.concurrency ?? 100;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, options.count) }, async () => {
      while (next < options.count) {
        next++;
        await open();
      }
    }),
  );
  const first = sockets.map((s) => s.message as Buffer);
  expected = sockets.length;
  return {
    first,
    round() {
      received = 0;
      for (const socket of sockets) {
        socket.at = 0;
        socket.message = undefined;
      }
      return new Promise((resolve, reject) => {
        wake = () => {
          wake = undefined;
          if (failure) reject(failure);
          else
            resolve({
              at: sockets.map((s) => s.at),
              messages: sockets.map((s) => s.message as Buffer),
            });
        };
        if (failure) wake();
      });
    },
    get extra() {
      return extra;
    },
    close() {
      for (const socket of sockets) socket.ws.terminate();
    },
  };
}
