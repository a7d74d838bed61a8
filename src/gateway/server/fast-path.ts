import { AsyncResource } from "node:async_hooks";
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { OperationTypeNode } from "graphql";
import type { Engine } from "../../engine/engine.ts";
import { freshnessOf } from "../../engine/product.ts";
import type { ParsedKey } from "../../keys.ts";
import type { Logger } from "../../logger.ts";
import type { AnyPrimer } from "../../primer/define-primer.ts";
import type { KckServerContext, ServedLog, StoredProduct } from "../../types.ts";
import { answerHeaders } from "../plugins/cacheable-answer.ts";
import { type AuthOptions, authorizeRequest, bearerToken } from "../plugins/use-authorization.ts";
import { type CacheHintsOptions, cacheControlFor } from "../plugins/use-cache-hints.ts";
import { type DirectAnswer, DirectQueries, type PureOperation } from "./direct-query.ts";
import { pureQueryCheck } from "./pure-query.ts";
import type { ResponseCache, SharedResponse } from "./response-cache.ts";
import type { Gateway } from "./yoga.ts";

/** Bodies up to this many bytes are handed to whatwg-node as a string (see `handOff`). */
const SMALL_BODY = 4096;

/** Options for {@link createFastPath}. */
export interface FastPathOptions {
  gateway: Gateway;
  /** Parses the keys of served products and counts reads of kept answers. */
  engine: Pick<Engine, "parse" | "noteServed">;
  /** The primers the gateway serves: their fields are the pure ones. */
  primers: readonly AnyPrimer[];
  /** Where finished responses of pure product reads are kept. */
  cache: ResponseCache;
  /** The options `useCacheHints` was given: a kept answer's `Cache-Control` is computed alike. */
  cacheHints: Pick<CacheHintsOptions, "maxAge" | "scope">;
  /** The gateway's token limit (past it, a document is not pure). @default 10000 */
  maxTokens?: number;
  /** The gateway's authorisation: a custom `authorize` is asked again before each kept answer. */
  auth?: AuthOptions | undefined;
  log: Logger;
  /** The GraphQL path. @default "/graphql" */
  path?: string;
  /**
   * The largest body the fast path reads itself; larger ones (and bodies of unknown length)
   * go to yoga as they arrive.
   * @default 65536
   */
  maxBodyBytes?: number;
}

/** An identical request waiting for a flight's answer. */
interface Waiter {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: Buffer;
  readonly operation: PureOperation;
}

/** Identical pure requests in flight: the first one's answer, for the rest. */
interface Flight {
  /** The memory layer's generation when it began: later requests join only while unchanged. */
  readonly epoch: number;
  /** Answered in one loop when the first is, rather than one promise callback each. */
  readonly waiters: Waiter[];
}

/**
 * The gateway's GraphQL handler: yoga, with a response cache in front for pure product reads.
 *
 * What it guarantees (see ARCHITECTURE.md, "Hot read path"): every answer is yoga's. A request
 * that may not be a pure query (not a POST to the path, a streaming `Accept`, a body over
 * `maxBodyBytes` or of unknown length) goes to yoga untouched, before any of its body is read.
 * The rest is read, and unless its operation is a pure query within the token limit it goes to
 * yoga with that body, through yoga's own node adapter (so streams stream and aborts abort).
 * A pure query goes to yoga too, and `useCacheHints` records its answer's parts; a later request
 * with the same body and the same headers yoga's answer depends on (content type, accept,
 * origin, authorization, cookie) gets those parts again, with `Cache-Control` and the 304
 * decision computed at send time by the functions the plugin uses, while every product it was
 * built from is still the memory layer's copy and fresh; such a hit counts as a read of those
 * products (read tracking, hints, hit metrics). Identical requests that arrive while one is
 * answered, with no change in between, share its answer the same way. A pure query whose
 * document yoga has already answered with the same request headers runs through yoga's envelop
 * without its HTTP layer ({@link DirectQueries}).
 */
export function createFastPath(
  options: FastPathOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { gateway, cache, log, engine, cacheHints } = options;
  const path = options.path ?? "/graphql";
  const maxBodyBytes = options.maxBodyBytes ?? 65_536;
  const authorize = options.auth?.authorize ? options.auth : undefined;
  const isPure = pureQueryCheck({
    primerNames: new Set(options.primers.map((primer) => primer.name)),
    maxTokens: options.maxTokens ?? 10_000,
  });
  const flights = new Map<string, Flight>();
  const memory = options.cache.memory;
  // With a custom authorize, every query goes through yoga's HTTP layer (it may read anything).
  const directs = authorize ? undefined : new DirectQueries(gateway, cacheHints);

  /** Yoga answers, through its node adapter, with the body already read. */
  const handOff = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    served?: ServedLog,
  ): Promise<unknown> | unknown => {
    // whatwg-node takes an already read body from `req.body`. It enumerates the keys of what
    // it is given there (a string: one per character), which costs little for a small body and
    // seconds for a megabyte: larger (and empty) bodies go as a one-chunk stream instead.
    (req as IncomingMessage & { body?: unknown }).body =
      body.length > 0 && body.length <= SMALL_BODY ? body.toString() : Readable.from([body]);
    return gateway(req, res, (served ? { kckServed: served } : {}) satisfies KckServerContext);
  };

  const send = (req: IncomingMessage, res: ServerResponse, shared: SharedResponse): void => {
    const { answer } = shared;
    const head = answerHeaders(
      answer.headers,
      answer.etag,
      cacheControlFor(shared.products, cacheHints, Date.now()),
      req.headers["if-none-match"],
    );
    engine.noteServed(shared.targets);
    if (head.status === 304) {
      res.writeHead(304, head.headers.flat());
      res.end();
      return;
    }
    head.headers.push(["content-length", String(shared.body.length)]);
    res.writeHead(200, head.headers.flat());
    res.end(shared.body);
  };

  /** Sends a kept answer, unless a custom authorize refuses it now (then yoga answers). */
  const sendKept = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    shared: SharedResponse,
  ): void => {
    if (authorize === undefined) {
      send(req, res, shared);
      return;
    }
    const token = bearerToken(req.headers.authorization);
    authorizeRequest(authorize, { operation: OperationTypeNode.QUERY, token }).then(
      () => send(req, res, shared),
      () => void handOff(req, res, body),
    );
  };

  /** Answers a pure query: here through yoga's envelop when its answer's shape is known, else yoga. */
  const run = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    operation: PureOperation,
    served: ServedLog,
  ): Promise<void> => {
    let direct: DirectAnswer | undefined;
    try {
      direct = await directs?.answer(req, operation, served);
    } catch (error) {
      log.error({ err: error }, "a query failed outside yoga's HTTP layer");
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end('{"errors":[{"message":"Unexpected error."}]}');
      return;
    }
    if (direct) {
      cache.direct++;
      const headers = direct.headers.flat();
      if (direct.body !== null)
        headers.push("content-length", String(Buffer.byteLength(direct.body)));
      res.writeHead(direct.status, headers);
      res.end(direct.body ?? undefined);
      return;
    }
    await handOff(req, res, body, served);
    if (served.answer && directs) directs.learn(req, operation, served.answer);
  };

  const execute = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    operation: PureOperation,
    signature: string,
    lead: boolean,
  ): Promise<void> => {
    const flight: Flight | undefined = lead ? { epoch: memory.generation, waiters: [] } : undefined;
    if (flight) flights.set(signature, flight);
    const served: ServedLog = { products: [], failed: false };
    let shared: SharedResponse | undefined;
    try {
      await run(req, res, body, operation, served);
      shared = sharedOf(served);
    } catch (error) {
      log.error({ err: error }, "the gateway failed to answer a request");
    } finally {
      if (flight) {
        if (flights.get(signature) === flight) flights.delete(signature);
        const now = Date.now();
        const fresh = shared !== undefined && allFresh(shared.products, now);
        for (const waiter of flight.waiters) {
          if (fresh) sendKept(waiter.req, waiter.res, waiter.body, shared as SharedResponse);
          else
            void execute(waiter.req, waiter.res, waiter.body, waiter.operation, signature, false);
        }
      }
    }
    if (shared) cache.set(signature, shared);
  };

  const sharedOf = (served: ServedLog): SharedResponse | undefined => {
    const { answer } = served;
    if (answer === undefined || served.failed) return undefined;
    const products = [...new Set(served.products)];
    let targets: ParsedKey[];
    try {
      targets = products.map((product) => engine.parse(product.key));
    } catch {
      return undefined;
    }
    return { answer, body: Buffer.from(answer.body), products, targets };
  };

  return (req, res) => {
    if (!mayBePure(req, path, maxBodyBytes)) {
      void gateway(req, res);
      return;
    }
    readBody(req, (body) => {
      const signature = signatureOf(req, body);
      const hit = cache.get(signature);
      if (hit) {
        sendKept(req, res, body, hit);
        return;
      }
      const operation = parseOperation(body);
      if (operation === undefined || !isPure(operation.query, operation.operationName)) {
        void handOff(req, res, body);
        return;
      }
      const flight = flights.get(signature);
      if (flight && flight.epoch === memory.generation) {
        flight.waiters.push({ req, res, body, operation });
        return;
      }
      void execute(req, res, body, operation, signature, true);
    });
  };
}

function allFresh(products: readonly StoredProduct[], now: number): boolean {
  for (const product of products) if (freshnessOf(product, now) !== "FRESH") return false;
  return true;
}

/**
 * Whether a request may carry a pure query the fast path reads itself: a POST to the GraphQL
 * path with a content type, a known body length within the cap, and an `Accept` that yoga
 * answers with one JSON document (no event stream, no multipart).
 */
function mayBePure(req: IncomingMessage, path: string, maxBodyBytes: number): boolean {
  if (req.method !== "POST" || req.url !== path) return false;
  const { headers } = req;
  if (headers["content-type"] === undefined || headers["transfer-encoding"] !== undefined)
    return false;
  const length = Number(headers["content-length"]);
  if (!Number.isInteger(length) || length < 0 || length > maxBodyBytes) return false;
  const accept = headers.accept;
  return (
    accept === undefined ||
    (!accept.includes("text/event-stream") && !accept.includes("multipart/mixed"))
  );
}

function readBody(req: IncomingMessage, done: (body: Buffer) => void): void {
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
      chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
    ),
  );
  req.on("error", () => req.destroy());
}

/** A hash of everything a pure operation's answer depends on besides the products it reads. */
function signatureOf(req: IncomingMessage, body: Buffer): string {
  const {
    "content-type": type = "",
    accept = "",
    origin = "",
    authorization = "",
    cookie = "",
  } = req.headers;
  return createHash("sha256")
    .update(`${type}\u0000${accept}\u0000${origin}\u0000${authorization}\u0000${cookie}\u0000`)
    .update(body)
    .digest("base64");
}

const FIELDS: ReadonlySet<string> = new Set(["query", "variables", "operationName"]);

/** The operation of a body that holds one (not a batch), if its query is a string. */
function parseOperation(body: Buffer): PureOperation | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString());
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    const fields = parsed as Record<string, unknown>;
    const { query, operationName, variables } = fields;
    if (typeof query !== "string") return undefined;
    const plain =
      Object.keys(fields).every((name) => FIELDS.has(name)) &&
      (operationName === undefined ||
        operationName === null ||
        typeof operationName === "string") &&
      (variables === undefined ||
        variables === null ||
        (typeof variables === "object" && !Array.isArray(variables)));
    return {
      query,
      operationName: operationName as PureOperation["operationName"],
      variables: variables as PureOperation["variables"],
      plain,
    };
  } catch {
    return undefined;
  }
}
