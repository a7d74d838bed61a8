import type { Server } from "node:http";
import {
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  getOperationAST,
  type OperationTypeNode,
} from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { KckError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { RequestContext } from "../../types.ts";
import type { ErrorMask } from "./error-mask.ts";
import { nextPayloads, sendNextMessages } from "./next-messages.ts";
import type { Gateway } from "./yoga.ts";

/** The GraphQL-over-WebSocket endpoint of a gateway. */
export interface WebSocketGateway {
  /** Ends every socket (subscriptions complete) and stops accepting new ones. */
  close(): Promise<void>;
  /** Refusals so far: messages over `maxPayload`, subscriptions past the cap. */
  readonly refused: { oversize: number; subscriptions: number };
}

/** Options for {@link attachWebSocket}. */
export interface WebSocketOptions {
  log: Logger;
  /** The path served. @default the gateway's GraphQL path */
  path?: string;
  /**
   * The largest message accepted, in bytes, from the first frame on (before `connection_init`
   * too): a larger one closes the socket with 1009. Set it to the HTTP body limit.
   * @default 1000000
   */
  maxPayload?: number;
  /** Subscriptions one connection may hold at once; past it a subscription gets an error. @default 100 */
  maxSubscriptions?: number;
  /** What clients see of an error thrown while an operation runs. */
  maskError: ErrorMask;
}

/** What the endpoint needs of a gateway: its path, and the envelop pipeline of an operation. */
export interface EnvelopSource {
  readonly graphqlEndpoint: string;
  getEnveloped(initial: Record<string, unknown>): ReturnType<Gateway["getEnveloped"]>;
}

/** The envelop pipeline of one operation, carried from `onSubscribe` to execution. */
interface EnvelopedArgs extends ExecutionArgs {
  readonly run: {
    execute: (args: ExecutionArgs) => unknown;
    subscribe: (args: ExecutionArgs) => unknown;
  };
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/**
 * Serves the graphql-ws protocol on the gateway's HTTP server and path. Every operation goes
 * through yoga's envelop pipeline (`getEnveloped`), so a subscription over a WebSocket gets
 * the same context, plugins and error masking as a query over HTTP. The gateway is asked for
 * its pipeline at each operation (`kck dev` passes one that answers with the current app's).
 */
export function attachWebSocket(
  server: Server,
  gateway: EnvelopSource,
  options: WebSocketOptions,
): WebSocketGateway {
  const maxSubscriptions = options.maxSubscriptions ?? 100;
  const refused = { oversize: 0, subscriptions: 0 };
  const payloadOf = nextPayloads();
  const wss = new WebSocketServer({
    server,
    path: options.path ?? gateway.graphqlEndpoint,
    // ws checks each frame's declared length before reading it, so a large message is refused
    // (close 1009) without being buffered, whatever the protocol state.
    maxPayload: options.maxPayload ?? 1_000_000,
  });
  // The ids of the subscriptions each connection holds (graphql-ws forgets an id when its
  // operation ends, however it ends; ids it no longer knows are dropped at each count).
  const held = new WeakMap<object, Set<string>>();
  const openSubscriptions = (ctx: { subscriptions: Record<string, unknown> }, id: string) => {
    let ids = held.get(ctx);
    if (ids === undefined) {
      ids = new Set();
      held.set(ctx, ids);
    }
    for (const known of ids) if (!(known in ctx.subscriptions)) ids.delete(known);
    return { ids, count: ids.size - (ids.has(id) ? 1 : 0) };
  };
  // An error thrown while an operation runs is answered as a result with that error, never
  // by closing the socket (graphql-ws closes with 4500 on anything thrown).
  const asResult = (error: unknown): ExecutionResult => ({
    errors: [toGraphQLError(options.maskError(error, "Unexpected error."))],
  });
  const guarded =
    (run: (args: ExecutionArgs) => unknown) =>
    async (args: ExecutionArgs): Promise<never> => {
      try {
        return (await run(args)) as never;
      } catch (error) {
        return asResult(error) as never;
      }
    };
  const disposable = useServer(
    {
      execute: guarded((args) => (args as EnvelopedArgs).run.execute(args)),
      subscribe: guarded((args) => (args as EnvelopedArgs).run.subscribe(args)),
      onSubscribe: async (ctx, id, payload) => {
        try {
          const { schema, execute, subscribe, contextFactory, parse, validate } =
            gateway.getEnveloped({
              ...ctx,
              req: ctx.extra.request,
              socket: ctx.extra.socket,
              params: payload,
            });
          let document: ExecutionArgs["document"];
          try {
            document = parse(payload.query);
          } catch (error) {
            return [toGraphQLError(options.maskError(error, "Unexpected error."))];
          }
          const errors = validate(schema, document);
          if (errors.length > 0) return errors;
          const operation = getOperationAST(document, payload.operationName);
          if (operation?.operation === ("subscription" as OperationTypeNode)) {
            const { ids, count } = openSubscriptions(ctx, id);
            if (count >= maxSubscriptions) {
              refused.subscriptions++;
              return [
                new KckError(
                  "LIMIT_EXCEEDED",
                  `This connection already holds ${count} subscriptions, the most one connection may hold (KCK_WS_MAX_SUBSCRIPTIONS); complete one first, or open another connection.`,
                ),
              ];
            }
            ids.add(id);
          }
          const args: EnvelopedArgs = {
            schema,
            document,
            operationName: payload.operationName ?? null,
            variableValues: payload.variables ?? null,
            contextValue: await contextFactory(),
            run: { execute, subscribe },
          };
          return args;
        } catch (error) {
          return [toGraphQLError(options.maskError(error, "Unexpected error."))];
        }
      },
      // Subscriptions send their results themselves: one serialisation per result, shared by
      // every subscriber of the same operation, instead of graphql-ws's one per message.
      onOperation: (ctx, id, _payload, args, result) =>
        isAsyncIterable(result)
          ? sendNextMessages(
              result,
              ctx.extra.socket,
              id,
              payloadOf,
              (args.contextValue as Partial<RequestContext> | undefined)?.subscriptionSource,
            )
          : undefined,
    },
    wss,
  );
  wss.on("connection", (socket) => {
    // graphql-ws prints socket errors to the console; a message over the limit is one, and a
    // client could send them all day. ws closes the socket itself (1009 for that one).
    socket.removeAllListeners("error");
    socket.on("error", (error: Error & { code?: string }) => {
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") refused.oversize++;
      else options.log.warn({ err: error }, "WebSocket error");
    });
  });
  wss.on("error", (error) => options.log.warn({ err: error }, "WebSocket server error"));
  return {
    refused,
    async close() {
      // Sockets that do not answer the close handshake at once are cut, so stop() cannot hang.
      const cut = setTimeout(() => {
        for (const socket of wss.clients) socket.terminate();
      }, 1000);
      try {
        await disposable.dispose();
      } finally {
        clearTimeout(cut);
      }
    },
  };
}

const toGraphQLError = (error: Error): GraphQLError =>
  error instanceof GraphQLError ? error : new GraphQLError(error.message);
