import { connect, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** One request of a burst. */
export interface BurstRequest {
  url: string;
  body: string;
  /**
   * Sent first on the same connection and answered before the burst starts, so that the
   * server has accepted the connection and set it up (as a client's keep-alive pool would).
   */
  opener?: string;
}

/** What runs around the measured part of a burst. */
export interface BurstHooks {
  /** Runs once the connections are ready, right before the burst is written. */
  ready?: () => Promise<void>;
  /** Runs once every answer is in, before the connections are closed (whose teardown costs). */
  settled?: () => Promise<void>;
}

/** Every answer of a burst, and when it began. */
export interface BurstResult {
  answers: BurstAnswer[];
  /** When the first request was written, in ms since the epoch (the database's clock, too). */
  startedAt: number;
}

/** One answer of a burst. */
export interface BurstAnswer {
  status: number;
  body: string;
  /** From writing the request to the last byte of the answer, in ms. */
  ms: number;
}

/**
 * One connection of a burst. Its reads go straight to `reader` (net's `onread`, one shared
 * buffer, no stream events): the load generator's cost per answer is what delays the times it
 * notes for the answers read after it.
 */
interface Connection {
  readonly socket: Socket;
  /** When the measured request was written (performance.now()). */
  sentAt: number;
  /** Takes the bytes of each read and when it happened; none between answers. */
  reader: ((bytes: Buffer, at: number) => void) | undefined;
}

// Every connection reads into this buffer; a reader copies what it keeps before the next read.
const READ_BUFFER = Buffer.alloc(64 * 1024);

/** A complete answer as it arrived, and when its last byte did. */
interface Arrived {
  bytes: Buffer;
  at: number;
}

// The load generator's own garbage collection must not land inside the measurement: with a
// thousand connections alive, each young-generation collection copies all of their state, and
// a pause while answers arrive would be counted as the servers' latency. So the heap is
// collected right before a burst is written (gc is exposed from inside, as the bench runs
// under tsx).
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/**
 * Sends many requests at the same moment, each on its own connection, and times each answer.
 * All connections are open (and, with an opener, in use by the server) before the first request
 * is written, so the times hold waiting and serving, not TCP handshakes. A minimal HTTP/1.1
 * client (Content-Length or chunked answers) keeps the load generator's own cost per answer
 * small: it reads without stream events, notes the time and keeps the bytes as they arrive,
 * and parses them once all are in.
 */
export async function burst(
  requests: readonly BurstRequest[],
  hooks: BurstHooks = {},
): Promise<BurstResult> {
  const connections = await Promise.all(requests.map((request) => open(request.url)));
  try {
    await Promise.all(
      requests.map((request, n) => {
        if (request.opener === undefined) return undefined;
        const connection = connections[n] as Connection;
        const answer = readAnswer(connection);
        connection.socket.write(payload(request, request.opener));
        return answer;
      }),
    );
    const payloads = requests.map((request) => payload(request, request.body));
    await hooks.ready?.();
    const pending = connections.map((connection) => readAnswer(connection));
    collectGarbage();
    const startedAt = Date.now();
    connections.forEach((connection, n) => {
      connection.sentAt = performance.now();
      connection.socket.write(payloads[n] as Buffer);
    });
    const arrived = await Promise.all(pending);
    await hooks.settled?.();
    const answers = arrived.map(({ bytes, at }, n) => ({
      ...(parse(bytes) as { status: number; body: string }),
      ms: at - (connections[n] as Connection).sentAt,
    }));
    return { answers, startedAt };
  } finally {
    for (const connection of connections) connection.socket.destroy();
  }
}

/** Opens a connection whose reads go to its current reader. */
function open(address: string): Promise<Connection> {
  const url = new URL(address);
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        port: Number(url.port),
        host: url.hostname,
        noDelay: true,
        onread: {
          buffer: READ_BUFFER,
          callback: (size, buffer) => {
            // The time first, before the bytes are copied out.
            const at = performance.now();
            connection.reader?.(Buffer.from(buffer.subarray(0, size)), at);
            return true;
          },
        },
      },
      () => resolve(connection),
    );
    const connection: Connection = { socket, sentAt: 0, reader: undefined };
    socket.once("error", reject);
  });
}

function payload(request: BurstRequest, body: string): Buffer {
  const url = new URL(request.url);
  const head =
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body);
}

/** The next answer on a connection, as bytes, with the time its last byte was read. */
function readAnswer(connection: Connection): Promise<Arrived> {
  const { socket } = connection;
  return new Promise((resolve, reject) => {
    let bytes: Buffer = Buffer.alloc(0);
    // The answer's whole length once its head is in and says so (Content-Length).
    let total = -1;
    const closed = () => reject(new Error("The connection closed before the answer was complete."));
    connection.reader = (chunk, at) => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      if (total < 0) total = lengthOf(bytes);
      if (total >= 0 ? bytes.length < total : parse(bytes) === undefined) return;
      connection.reader = undefined;
      socket.off("error", reject);
      socket.off("close", closed);
      resolve({ bytes, at });
    };
    socket.once("error", reject);
    socket.once("close", closed);
  });
}

/** The whole length of an answer with a Content-Length once its head is in; else -1. */
function lengthOf(buffer: Buffer): number {
  const end = buffer.indexOf("\r\n\r\n");
  if (end < 0) return -1;
  const length = /\r\ncontent-length: *(\d+)/i.exec(buffer.subarray(0, end).toString("latin1"));
  return length ? end + 4 + Number(length[1]) : -1;
}

/** The status and body once the whole answer is in `buffer`, else undefined. */
function parse(buffer: Buffer): { status: number; body: string } | undefined {
  const end = buffer.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const head = buffer.subarray(0, end).toString("latin1");
  const status = Number(head.slice(9, 12));
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  const rest = buffer.subarray(end + 4);
  if (length) {
    const size = Number(length[1]);
    return rest.length < size ? undefined : { status, body: rest.subarray(0, size).toString() };
  }
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return undefined;
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const line = rest.indexOf("\r\n", at);
    if (line < 0) return undefined;
    const size = Number.parseInt(rest.subarray(at, line).toString("latin1"), 16);
    if (size === 0) return { status, body: Buffer.concat(parts).toString() };
    if (rest.length < line + 2 + size + 2) return undefined;
    parts.push(rest.subarray(line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
}
