import { AsyncResource } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServedLog } from "../graphql/schema-types.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { pureQueryCheck } from "./pure-query.ts";
import type { ResponseCache, SharedResponse } from "./response-cache.ts";
import { type Gateway, SERVED_LOG } from "./yoga.ts";

/** Options for {@link createFastPath}. */
export interface FastPathOptions {
  gateway: Gateway;
  /** The primers the gateway serves: their fields are the pure ones. */
  primers: readonly AnyPrimer[];
  /** Where finished responses of pure product reads are kept. */
  cache: ResponseCache;
  log: Logger;
  /** The GraphQL path. @default "/graphql" */
  path?: string;
}

/** An identical request waiting for a flight's answer. */
interface Waiter {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: string;
}

/** Identical pure requests in flight: the first one's answer, for the rest. */
interface Flight {
  /** The memory layer's generation when it began: later requests join only while unchanged. */
  readonly epoch: number;
  /** Answered in one loop when the first is, rather than one promise callback each. */
  readonly waiters: Waiter[];
}

/**
 * The gateway's HTTP handler: in front of yoga, for POSTed JSON operations that read products
 * only (see {@link pureQueryCheck}). A request whose identical twin was answered from products
 * that are all still current and fresh gets those bytes back without GraphQL or the database.
 * Identical requests that arrive while one is being answered, with no change in between (a
 * change event, or a write of this instance), wait for it and share its answer, so a miss storm
 * costs one execution per instance. Anything else goes to yoga unchanged.
 *
 * Two requests are identical when their bodies and their accept, origin, authorization and
 * cookie headers are, so a plugin that reads other headers must run with the cache off.
 */
export function createFastPath(
  options: FastPathOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { gateway, cache, log } = options;
  const path = options.path ?? "/graphql";
  const isPure = pureQueryCheck(new Set(options.primers.map((primer) => primer.name)));
  const flights = new Map<string, Flight>();
  const memory = options.cache.memory;

  const execute = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
    signature: string,
    lead: boolean,
  ): Promise<void> => {
    const operation = parseOperation(body);
    const pure = operation !== undefined && isPure(operation.query, operation.operationName);
    const flight: Flight | undefined =
      lead && pure ? { epoch: memory.generation, waiters: [] } : undefined;
    if (flight) flights.set(signature, flight);
    const served: ServedLog | undefined = pure ? { products: [], failed: false } : undefined;
    let shared: SharedResponse | undefined;
    try {
      // The body is read already: whatwg-node takes it from here instead of the stream.
      (req as IncomingMessage & { body?: string }).body = body === "" ? "{}" : body;
      const response = await gateway.handleNodeRequest(req, served ? { [SERVED_LOG]: served } : {});
      const bytes = Buffer.from(await response.text());
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      headers["content-length"] = String(bytes.length);
      const answer = { status: response.status, headers, body: bytes };
      send(res, answer);
      if (pure && isJson(headers["content-type"])) shared = answer;
    } catch (error) {
      log.error({ err: error }, "the gateway failed to answer a request");
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end('{"errors":[{"message":"Unexpected error."}]}');
    } finally {
      if (flight) {
        if (flights.get(signature) === flight) flights.delete(signature);
        for (const waiter of flight.waiters) {
          if (shared) send(waiter.res, shared);
          else void execute(waiter.req, waiter.res, waiter.body, signature, false);
        }
      }
    }
    if (shared && served && !served.failed && shared.status === 200) {
      cache.set(signature, shared, served.products);
    }
  };

  return (req, res) => {
    if (req.method !== "POST" || req.url !== path || !takesJson(req)) {
      void gateway(req, res);
      return;
    }
    readBody(req, (body) => {
      const signature = signatureOf(req, body);
      const hit = cache.get(signature);
      if (hit) return send(res, hit);
      const flight = flights.get(signature);
      if (flight && flight.epoch === memory.generation) {
        flight.waiters.push({ req, res, body });
        return;
      }
      void execute(req, res, body, signature, true);
    });
  };
}

function send(res: ServerResponse, answer: SharedResponse): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

function readBody(req: IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  // Run in the caller's async context: stream events run in the socket's, which would lose
  // the request id (and anything else kept in AsyncLocalStorage) for the rest of the request.
  // A resource rather than AsyncResource.bind, which costs some 15 µs a call on Node 20 (it
  // wraps a deprecated getter each time): in a miss storm that is milliseconds of parsing.
  const context = new AsyncResource("kck.body");
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () =>
    context.runInAsyncScope(
      done,
      null,
      chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString(),
    ),
  );
  req.on("error", () => req.destroy());
}

/** A POSTed JSON operation whose answer may be plain JSON (no event stream, no multipart). */
function takesJson(req: IncomingMessage): boolean {
  const type = req.headers["content-type"];
  if (type === undefined || !type.startsWith("application/json")) return false;
  const accept = req.headers.accept;
  return (
    accept === undefined ||
    (!accept.includes("text/event-stream") && !accept.includes("multipart/mixed"))
  );
}

function isJson(contentType: string | undefined): boolean {
  return (
    contentType !== undefined &&
    (contentType.startsWith("application/json") ||
      contentType.startsWith("application/graphql-response+json"))
  );
}

/** Everything a pure operation's answer depends on besides the products it reads. */
function signatureOf(req: IncomingMessage, body: string): string {
  const { accept = "", origin = "", authorization = "", cookie = "" } = req.headers;
  return `${accept}\u0000${origin}\u0000${authorization}\u0000${cookie}\u0000${body}`;
}

function parseOperation(body: string): { query: unknown; operationName: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    const { query, operationName } = parsed as Record<string, unknown>;
    return { query, operationName };
  } catch {
    return undefined;
  }
}
