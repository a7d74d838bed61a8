import DataLoader from "dataloader";
import type { GraphQLSchema } from "graphql";
import { createYoga, maskError, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { Engine } from "../engine/engine.ts";
import type { StoredProduct } from "../engine/product.ts";
import type { RequestContext, ServedLog } from "../graphql/schema-types.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";

/** The yoga instance serving one KCK schema. */
export type Gateway = YogaServerInstance<Record<string, unknown>, RequestContext>;

/** Options for {@link createGateway}. */
export interface GatewayOptions {
  engine: Engine;
  schema: GraphQLSchema;
  log: Logger;
  /** Extra envelop/yoga plugins (limits, auth, metrics), applied in order. */
  plugins?: Plugin[];
  /** The GraphQL path. @default "/graphql" */
  path?: string;
}

/** The server-context field through which the response cache passes its {@link ServedLog}. */
export const SERVED_LOG = "kckServed";

/**
 * Builds the per-request context: the engine and a fresh product loader, which notes what it
 * served in `served` when given one.
 */
export function requestContext(engine: Engine, served?: ServedLog): RequestContext {
  const load = served
    ? async (targets: readonly ParsedKey[]) => {
        const results = await engine.load(targets);
        for (const result of results) {
          if (result instanceof Error) served.failed = true;
          else served.products.push(result);
        }
        return results;
      }
    : (targets: readonly ParsedKey[]) => engine.load(targets);
  return {
    kck: engine,
    products: new DataLoader<ParsedKey, StoredProduct, string>(load, {
      cacheKeyFn: (target) => target.key,
    }),
    served,
  };
}

/** Creates the yoga server: GraphiQL, queries and mutations over HTTP, errors masked and logged. */
export function createGateway(options: GatewayOptions): Gateway {
  const { engine, log } = options;
  return createYoga<Record<string, unknown>, RequestContext>({
    schema: options.schema,
    graphqlEndpoint: options.path ?? "/graphql",
    context: (initial) => requestContext(engine, initial[SERVED_LOG] as ServedLog | undefined),
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
