import DataLoader from "dataloader";
import type { GraphQLSchema } from "graphql";
import { createYoga, maskError, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { Engine } from "../engine/engine.ts";
import type { StoredProduct } from "../engine/product.ts";
import type { RequestContext } from "../graphql/schema-types.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import type { Hub } from "../subscriptions/hub.ts";

/** The yoga instance serving one KCK schema. */
export type Gateway = YogaServerInstance<Record<string, unknown>, RequestContext>;

/** Options for {@link createGateway}. */
export interface GatewayOptions {
  engine: Engine;
  /** The instance's subscription hub. */
  hub: Hub;
  schema: GraphQLSchema;
  log: Logger;
  /** Extra envelop/yoga plugins (limits, auth, metrics), applied in order. */
  plugins?: Plugin[];
  /** The GraphQL path. @default "/graphql" */
  path?: string;
}

/** Builds the per-request context: the engine, a fresh product loader and the hub. */
export function requestContext(engine: Engine, hub: Hub): RequestContext {
  return {
    kck: engine,
    hub,
    products: new DataLoader<ParsedKey, StoredProduct, string>((targets) => engine.load(targets), {
      cacheKeyFn: (target) => target.key,
    }),
  };
}

/** Creates the yoga server: GraphiQL, queries and mutations over HTTP, errors masked and logged. */
export function createGateway(options: GatewayOptions): Gateway {
  const { engine, hub, log } = options;
  return createYoga<Record<string, unknown>, RequestContext>({
    schema: options.schema,
    graphqlEndpoint: options.path ?? "/graphql",
    context: () => requestContext(engine, hub),
    landingPage: false,
    plugins: options.plugins ?? [],
    logging: {
      debug: (...args) => log.debug({ args }, "yoga"),
      info: (...args) => log.info({ args }, "yoga"),
      warn: (...args) => log.warn({ args }, "yoga"),
      error: (...args) => log.error({ args }, "yoga"),
    },
    maskedErrors: {
      maskError(error, message, isDev) {
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
