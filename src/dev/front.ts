import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { App } from "../app.ts";
import { KckError } from "../errors.ts";
import { createErrorMask } from "../gateway/server/error-mask.ts";
import { attachWebSocket } from "../gateway/server/ws.ts";
import type { Logger } from "../logger.ts";
import { LiveSubscriptions, type Moved } from "./live-subscriptions.ts";

/** Options for {@link startFront}. */
export interface FrontOptions {
  /** The HTTP port; 0 picks a free one. */
  port: number;
  /** The interface to listen on. @default all interfaces */
  host?: string | undefined;
  log: Logger;
  /** The largest WebSocket message accepted, in bytes (the HTTP body limit). */
  maxPayload: number;
  /** Subscriptions one WebSocket connection may hold at once. */
  maxSubscriptions: number;
  /** Hide the causes of failed computes from WebSocket clients. */
  maskErrors: boolean;
  /**
   * How long a swapped-out app may take to finish its requests before it is stopped anyway.
   * @default 25000
   */
  drainTimeoutMs?: number;
}

/** The one HTTP server of `kck dev`, in front of whichever app is current. */
export interface Front {
  /** The GraphQL URL. */
  readonly url: string;
  /**
   * Serves `app` from now on: new requests go to it, open WebSocket subscriptions move to it
   * (or end with a message), and the previous app is stopped once its requests have finished.
   * Resolves when the swap is done; `retired` when the previous app has stopped.
   */
  swap(app: App): Promise<Moved & { retired: Promise<void> }>;
  /** Why there is no app to serve, answered with 503 until the first swap. */
  unavailable(reason: string): void;
  /** Stops serving, then stops the current app. */
  close(): Promise<void>;
}

/** A served app and its requests under way (SSE streams aside: they end when it stops). */
interface Serving {
  readonly app: App;
  requests: number;
  idle: (() => void) | undefined;
}

/**
 * Starts the server `kck dev` keeps for its whole life: its request handler and its WebSocket
 * endpoint (graphql-ws) answer with the current app, which {@link Front.swap} replaces in the
 * same process.
 */
export async function startFront(options: FrontOptions): Promise<Front> {
  const { log } = options;
  let current: Serving | undefined;
  let reason = "kck dev is loading the primers.";
  const subscriptions = new LiveSubscriptions();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const serving = current;
    if (serving === undefined) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: reason }));
      return;
    }
    // A stream of events lasts as long as its subscription: the swap does not wait for it.
    if (!String(req.headers.accept ?? "").includes("text/event-stream")) {
      serving.requests++;
      res.once("close", () => {
        if (--serving.requests === 0) serving.idle?.();
      });
    }
    serving.app.handler(req, res);
  });
  const sockets = attachWebSocket(
    server,
    {
      graphqlEndpoint: "/graphql",
      // The current app's pipeline, with subscriptions that can move to the next app.
      getEnveloped(initial) {
        if (current === undefined) throw new KckError("UNAVAILABLE", reason);
        const enveloped = current.app.gateway.getEnveloped(initial);
        return {
          ...enveloped,
          subscribe: (args: Parameters<typeof enveloped.subscribe>[0]) =>
            subscriptions.subscribe(initial, enveloped, args),
        };
      },
    },
    {
      log,
      maxPayload: options.maxPayload,
      maxSubscriptions: options.maxSubscriptions,
      maskError: createErrorMask({ log, maskErrors: options.maskErrors }),
    },
  );
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(options.port, options.host, () => done());
  });
  const { port } = server.address() as AddressInfo;
  const host =
    options.host && options.host !== "0.0.0.0" && options.host !== "::"
      ? options.host
      : "localhost";
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/graphql`;

  // Apps being stopped: a close waits for them.
  const retiring = new Set<Promise<void>>();
  const retire = async (old: Serving): Promise<void> => {
    if (old.requests > 0) {
      await new Promise<void>((idle) => {
        const timer = setTimeout(idle, options.drainTimeoutMs ?? 25_000);
        old.idle = () => {
          clearTimeout(timer);
          idle();
        };
      });
    }
    await old.app.stop();
  };

  return {
    url,
    unavailable(why) {
      reason = why;
    },
    async swap(app) {
      const old = current;
      current = { app, requests: 0, idle: undefined };
      const moved = await subscriptions.moveAll((initial) => app.gateway.getEnveloped(initial));
      const retired = (old ? retire(old) : Promise.resolve()).catch((error: unknown) =>
        log.warn({ err: error }, "could not stop the replaced app"),
      );
      retiring.add(retired);
      void retired.finally(() => retiring.delete(retired));
      return { ...moved, retired };
    },
    async close() {
      const serving = current;
      current = undefined;
      reason = "kck dev is stopping.";
      await sockets.close();
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      if (serving) await retire(serving);
      await Promise.all(retiring);
      await closed;
    },
  };
}
