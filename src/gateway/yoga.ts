import DataLoader from "dataloader";
import type { GraphQLSchema } from "graphql";
import { createYoga, maskError, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { isUnavailable } from "../db/db.ts";
import type { Engine } from "../engine/engine.ts";
import { asServed } from "../engine/not-found.ts";
import type { StoredProduct } from "../engine/product.ts";
import { KckError } from "../errors.ts";
import type { RequestContext, ServedLog } from "../graphql/schema-types.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import { currentRemoteAddress } from "../request-scope.ts";
import type { Hub } from "../subscriptions/hub.ts";
import { type AuthOptions, bearerToken, useAuthorization } from "./auth.ts";
import { DEFAULT_LIMITS, type Limits, limitPlugins } from "./limits.ts";
import type { NewKeyLimiter } from "./new-key-limit.ts";
import { useRateLimitStatus } from "./use-rate-limit-status.ts";
import { useSharedSubscriptionResults } from "./use-shared-subscription-results.ts";

/** The yoga instance serving one KCK schema. */
export type Gateway = YogaServerInstance<Record<string, unknown>, RequestContext>;

/** Options for {@link createGateway}. */
export interface GatewayOptions {
  engine: Engine;
  /** The instance's subscription hub. */
  hub: Hub;
  schema: GraphQLSchema;
  log: Logger;
  /** Operation limits. @default DEFAULT_LIMITS */
  limits?: Limits;
  /** Who may run what. @default mutations open outside production, queries open */
  auth?: AuthOptions;
  /** Extra envelop/yoga plugins (metrics, caching hints), applied after limits and authorization. */
  plugins?: (Plugin | Plugin<RequestContext>)[];
  /** The GraphQL path. @default "/graphql" */
  path?: string;
  /** How fast one client may cause computes of keys not stored yet. @default no limit */
  newKeys?: NewKeyLimiter | undefined;
}

/** The server-context field through which the response cache passes its {@link ServedLog}. */
export const SERVED_LOG = "kckServed";

/**
 * Builds the per-request context: the engine, a fresh product loader that notes what it served
 * (in the response cache's log when it passes one), the hub, and the caller's token.
 */
export function requestContext(
  engine: Engine,
  hub: Hub,
  token: string | undefined,
  served: ServedLog = { products: [], failed: false },
  admitNew?: () => Promise<void>,
): RequestContext {
  return {
    kck: engine,
    hub,
    token,
    served,
    admitNew,
    products: new DataLoader<ParsedKey, StoredProduct, string>(
      async (targets) => {
        // A stored NOT_FOUND version reaches the field as its error.
        const loaded = await engine.load(targets, undefined, admitNew ? { admitNew } : undefined);
        const results = loaded.map((result) => asServed(result));
        for (const result of results) {
          if (result instanceof Error) served.failed = true;
          else served.products.push(result);
        }
        return results;
      },
      { cacheKeyFn: (target) => target.key },
    ),
  };
}

/** Creates the yoga server: GraphiQL, queries and mutations over HTTP, errors masked and logged. */
export function createGateway(options: GatewayOptions): Gateway {
  const { engine, hub, log } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  return createYoga<Record<string, unknown>, RequestContext>({
    schema: options.schema,
    graphqlEndpoint: options.path ?? "/graphql",
    // Over HTTP the token comes from the Authorization header; over WebSocket from the
    // connectionParams of the connection (`{ authorization: "Bearer …" }` or `{ token: "…" }`).
    context: (initial) => {
      const token = tokenOf(initial);
      const served = initial[SERVED_LOG] as ServedLog | undefined;
      const admit = options.newKeys?.forClient(token, remoteAddressOf(initial));
      return requestContext(engine, hub, token, served, admit);
    },
    landingPage: false,
    batching: { limit: limits.batch },
    plugins: [
      ...limitPlugins(limits),
      useAuthorization(options.auth ?? {}),
      // One execution per version for all subscribers of the same operation (WebSocket and SSE).
      useSharedSubscriptionResults(),
      useRateLimitStatus(),
      ...(options.plugins ?? []),
    ],
    logging: {
      debug: (...args) => log.debug({ args }, "yoga"),
      info: (...args) => log.info({ args }, "yoga"),
      warn: (...args) => log.warn({ args }, "yoga"),
      error: (...args) => log.error({ args }, "yoga"),
    },
    maskedErrors: {
      maskError(error, message, isDev) {
        // A database outage is expected to happen: say so plainly, and log it once as a warning.
        if (isUnavailable(error)) {
          log.warn({ err: error }, "database unavailable");
          return new KckError(
            "UNAVAILABLE",
            "The cache database cannot be reached right now; try again in a few seconds.",
          );
        }
        const masked = maskError(error, message, isDev);
        // Anything masked was unexpected: the client sees a generic message, the log the cause.
        if (masked !== error)
          log.error(
            { err: (error as { originalError?: unknown }).originalError ?? error },
            "unexpected error",
          );
        return masked;
      },
    },
  });
}

/** The client's address: the socket's (HTTP or WebSocket), else the request scope's. */
function remoteAddressOf(initial: Record<string, unknown>): string | undefined {
  const req = initial["req"] as { socket?: { remoteAddress?: string } } | undefined;
  return req?.socket?.remoteAddress ?? currentRemoteAddress();
}

/** The bearer token of an HTTP request or of a graphql-ws connection. */
function tokenOf(initial: { request?: Request; connectionParams?: unknown }): string | undefined {
  const header = initial.request?.headers?.get("authorization");
  if (header) return bearerToken(header);
  const params = (initial.connectionParams ?? {}) as Record<string, unknown>;
  if (typeof params["token"] === "string") return params["token"];
  return bearerToken(params["authorization"] ?? params["Authorization"]);
}
