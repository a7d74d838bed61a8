import DataLoader from "dataloader";
import type { GraphQLSchema } from "graphql";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { Engine } from "../../engine/engine.ts";
import { asServed } from "../../engine/not-found.ts";
import type { ParsedKey } from "../../keys.ts";
import type { Logger } from "../../logger.ts";
import { currentRemoteAddress } from "../../request-scope.ts";
import type { Hub } from "../../subscriptions/hub.ts";
import type { KckServerContext, RequestContext, ServedLog, StoredProduct } from "../../types.ts";
import {
  type AuthOptions,
  bearerToken,
  isAdminToken,
  useAuthorization,
} from "../plugins/use-authorization.ts";
import { DEFAULT_LIMITS, type Limits, useLimits } from "../plugins/use-limits.ts";
import { useRateLimitStatus } from "../plugins/use-rate-limit-status.ts";
import { useSharedSubscriptionResults } from "../plugins/use-shared-subscription-results.ts";
import { type SseStats, useSseDelivery } from "../plugins/use-sse-delivery.ts";
import { corsOptions } from "./cors.ts";
import { createErrorMask, type ErrorMask } from "./error-mask.ts";
import type { NewKeyLimiter } from "./new-key-limit.ts";

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
  /** Serve GraphiQL to browsers at the GraphQL path. @default true */
  graphiql?: boolean;
  /** The origins browsers may call from (CORS); `*` allows any, never with credentials. @default none */
  corsOrigins?: readonly string[];
  /** What clients see of errors. @default createErrorMask({ log }): causes of failed computes shown */
  maskError?: ErrorMask;
  /** Counts SSE streams and their unflushed events (for tests and metrics). */
  sseStats?: SseStats;
  /** Hide stored failure causes (`lastError`) from all but admin callers. @default false */
  maskErrors?: boolean;
  /** How fast one client may cause computes of keys not stored yet. @default no limit */
  newKeys?: NewKeyLimiter | undefined;
}

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
      const served = (initial as KckServerContext).kckServed;
      const admit = options.newKeys?.forClient(token, remoteAddressOf(initial));
      const context = requestContext(engine, hub, token, served, admit);
      return options.maskErrors
        ? { ...context, revealErrors: isAdminToken(options.auth ?? {}, token) }
        : context;
    },
    landingPage: false,
    graphiql: options.graphiql ?? true,
    cors: corsOptions(options.corsOrigins),
    // The HTTP handler enforces the body limit before yoga (server/body-limit.ts); yoga's own
    // would pipe every request body through a counting stream (7% of a long-tail request).
    maxRequestBodySize: false,
    // GraphiQL with its assets from the npm package, not a CDN: it works offline. The 9 MB
    // module is loaded on the first GraphiQL request only.
    renderGraphiQL: async (graphiql) =>
      (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(graphiql),
    batching: { limit: limits.batch },
    plugins: [
      useLimits(limits),
      useAuthorization(options.auth ?? {}),
      // One execution per version for all subscribers of the same operation (WebSocket and SSE).
      useSharedSubscriptionResults(),
      // SSE with the WebSocket path's backpressure: a paused reader's versions are skipped.
      useSseDelivery(options.sseStats),
      useRateLimitStatus(),
      ...(options.plugins ?? []),
    ],
    logging: {
      debug: (...args) => log.debug({ args }, "yoga"),
      info: (...args) => log.info({ args }, "yoga"),
      warn: (...args) => log.warn({ args }, "yoga"),
      error: (...args) => log.error({ args }, "yoga"),
    },
    maskedErrors: { maskError: options.maskError ?? createErrorMask({ log }) },
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
