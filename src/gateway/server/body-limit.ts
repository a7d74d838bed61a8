import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Refuses a request body over the limit with 413: at once when Content-Length says so, and
 * mid-stream (closing the connection) when a chunked body grows past it.
 *
 * @returns false when the request was refused and must not be handled further.
 */
export function withinBodyLimit(req: IncomingMessage, res: ServerResponse, limit: number): boolean {
  const tooLarge = () => {
    if (res.headersSent) return;
    res.writeHead(413, { "content-type": "application/json", connection: "close" });
    res.end(
      JSON.stringify({
        errors: [
          {
            message: `The request body is larger than the limit of ${limit} bytes.`,
            extensions: { code: "PAYLOAD_TOO_LARGE" },
          },
        ],
      }),
    );
  };
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    tooLarge();
    req.resume();
    return false;
  }
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      tooLarge();
      req.destroy();
    }
  });
  return true;
}
