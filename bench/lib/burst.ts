import { connect, type Socket } from "node:net";

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

/** One answer of a burst. */
export interface BurstAnswer {
  status: number;
  body: string;
  /** From writing the request to the last byte of the answer, in ms. */
  ms: number;
}

type TimedSocket = Socket & { sentAt?: number };

/**
 * Sends many requests at the same moment, each on its own connection, and times each answer.
 * All connections are open (and, with an opener, in use by the server) before the first request
 * is written, so the times hold waiting and serving, not TCP handshakes. A minimal HTTP/1.1
 * client (Content-Length or chunked answers) keeps the load generator's own cost per answer
 * small, as autocannon's does.
 */
export async function burst(
  requests: readonly BurstRequest[],
  /** Runs once the connections are ready, right before the burst is written. */
  ready: () => Promise<void> = async () => {},
): Promise<BurstAnswer[]> {
  const sockets = await Promise.all(
    requests.map(
      (request) =>
        new Promise<TimedSocket>((resolve, reject) => {
          const url = new URL(request.url);
          const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
          socket.setNoDelay(true);
          socket.once("error", reject);
        }),
    ),
  );
  try {
    await Promise.all(
      requests.map((request, n) => {
        if (request.opener === undefined) return undefined;
        const socket = sockets[n] as TimedSocket;
        const answer = readAnswer(socket);
        socket.write(payload(request, request.opener));
        return answer;
      }),
    );
    const payloads = requests.map((request) => payload(request, request.body));
    await ready();
    const pending = sockets.map((socket) => readAnswer(socket));
    sockets.forEach((socket, n) => {
      socket.sentAt = performance.now();
      socket.write(payloads[n] as Buffer);
    });
    return await Promise.all(pending);
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

function payload(request: BurstRequest, body: string): Buffer {
  const url = new URL(request.url);
  const head =
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body);
}

/** The next answer on a socket; its listeners go once the answer is complete. */
function readAnswer(socket: TimedSocket): Promise<BurstAnswer> {
  return new Promise((resolve, reject) => {
    let buffer: Buffer = Buffer.alloc(0);
    const closed = () => reject(new Error("The connection closed before the answer was complete."));
    const onData = (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      const parsed = parse(buffer);
      if (parsed === undefined) return;
      socket.off("data", onData);
      socket.off("error", reject);
      socket.off("close", closed);
      resolve({ ...parsed, ms: performance.now() - (socket.sentAt ?? 0) });
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", closed);
  });
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
