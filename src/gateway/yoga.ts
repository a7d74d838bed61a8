import DataLoader from "dataloader";
import type { GraphQLSchema } from "graphql";
import { createYoga, maskError, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { isUnavailable } from "../db/db.ts";
import type { Engine } from "../engine/engine.ts";
import type { StoredProduct } from "../engine/product.ts";
import { KckError } from "../errors.ts";
import type { RequestContext, ServedLog } from "../graphql/schema-types.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import type { Hub } from "../subscriptions/hub.ts";
import { type AuthOptions, bearerToken, useAuthorization } from "./auth.ts";
import { DEFAULT_LIMITS, type Limits, limitPlugins } from "./limits.ts";
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
): RequestContext {
  return {
    kck: engine,
    hub,
    token,
    served,
    products: new DataLoader<ParsedKey, StoredProduct, string>(
      async (targets) => {
        const results = await engine.load(targets);
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
    context: (initial) =>
      requestContext(engine, hub, tokenOf(initial), initial[SERVED_LOG] as ServedLog | undefined),
    landingPage: false,
    // GraphiQL with its assets from the npm package, not a CDN: it works offline. The 9 MB
    // module is loaded on the first GraphiQL request only.
    renderGraphiQL: async (graphiql) =>
      (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(graphiql),
    batching: { limit: limits.batch },
    plugins: [
      ...limitPlugins(limits),
      useAuthorization(options.auth ?? {}),
      // One execution per version for all subscribers of the same operation (WebSocket and SSE).
      useSharedSubscriptionResults(),
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

/** The bearer token of an HTTP request or of a graphql-ws connection. */
function tokenOf(initial: { request?: Request; connectionParams?: unknown }): string | undefined {
  const header = initial.request?.headers?.get("authorization");
  if (header) return bearerToken(header);
  const params = (initial.connectionParams ?? {}) as Record<string, unknown>;
  if (typeof params["token"] === "string") return params["token"];
  return bearerToken(params["authorization"] ?? params["Authorization"]);
}
