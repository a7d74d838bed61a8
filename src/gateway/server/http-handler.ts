import type { IncomingMessage, ServerResponse } from "node:http";
import type { Queryable } from "../../db/db.ts";
import type { Logger } from "../../logger.ts";
import type { KckMetrics } from "../../metrics/metrics.ts";
import { requestIdFrom, runWithRequestId } from "../../request-scope.ts";
import { withinBodyLimit } from "./body-limit.ts";
import { newErrorId } from "./error-mask.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** What the HTTP server routes to. */
export interface HttpHandlerOptions {
  /** Answers GraphQL (and anything no other route takes). */
  graphql: Handler;
  /** Pinged by `/health`. */
  db: Queryable;
  /** Scraped at `/metrics`. */
  metrics: KckMetrics;
  /** Answers its own paths (the dashboard); resolves false for others. */
  dashboard?: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;
  /** Who may scrape `/metrics` (the read token, when reads are private). @default everyone */
  opsAllowed?: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;
  /** The largest request body accepted, in bytes. */
  bodyBytes: number;
  log: Logger;
}

// Probes and scrapes come every few seconds: logged only at debug, so they do not drown the rest.
const QUIET: ReadonlySet<string> = new Set(["/health", "/metrics"]);

/**
 * The gateway's HTTP entry point. It gives every request an id (the client's `x-request-id`,
 * or a new one), echoes it in the response, runs the request in that id's scope so that every
 * log line it causes carries it, logs one line when the response is sent, and routes:
 * `/health`, `/metrics`, the dashboard, then GraphQL.
 */
export function createHttpHandler(options: HttpHandlerOptions): Handler {
  const { log, metrics } = options;
  return (req, res) => {
    const requestId = requestIdFrom(req.headers["x-request-id"]);
    res.setHeader("x-request-id", requestId);
    return runWithRequestId({ requestId, remoteAddress: req.socket.remoteAddress }, async () => {
      const started = performance.now();
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      res.once("finish", () => {
        const line = {
          method: req.method,
          path,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        };
        if (QUIET.has(path)) log.debug(line, "request");
        else log.info(line, "request");
      });
      try {
        if (path === "/health") await health(options.db, res);
        else if (path === "/metrics") {
          if (options.opsAllowed && !(await options.opsAllowed(req, res))) return;
          const text = await metrics.registry.metrics();
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        } else if (
          !(await options.dashboard?.(req, res)) &&
          withinBodyLimit(req, res, options.bodyBytes)
        ) {
          await options.graphql(req, res);
        }
      } catch (error) {
        // The cause (a driver's text, a stack) goes to the log only; the client gets its id.
        const errorId = newErrorId();
        log.error({ err: error, path, errorId }, "request failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: `The request failed on the server (error id ${errorId}).`,
            errorId,
          }),
        );
      }
    });
  };
}

async function health(db: Queryable, res: ServerResponse): Promise<void> {
  const database = await db.query("select 1").then(
    () => "up",
    () => "down",
  );
  res.writeHead(database === "up" ? 200 : 503, { "content-type": "application/json" });
  res.end(JSON.stringify({ status: database === "up" ? "ok" : "degraded", database }));
}
