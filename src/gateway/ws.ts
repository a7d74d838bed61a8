import type { Server } from "node:http";
import type { ExecutionArgs, ExecutionResult, GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Logger } from "../logger.ts";
import { sendNextMessages } from "./next-messages.ts";
import { readableSignalOf } from "./use-shared-subscription-results.ts";
import type { Gateway } from "./yoga.ts";

/** The GraphQL-over-WebSocket endpoint of a gateway. */
export interface WebSocketGateway {
  /** Ends every socket (subscriptions complete) and stops accepting new ones. */
  close(): Promise<void>;
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
 * the same context, plugins and error masking as a query over HTTP.
 */
export function attachWebSocket(
  server: Server,
  gateway: Gateway,
  options: { log: Logger; path?: string },
): WebSocketGateway {
  const wss = new WebSocketServer({ server, path: options.path ?? gateway.graphqlEndpoint });
  const disposable = useServer(
    {
      execute: (args) => (args as EnvelopedArgs).run.execute(args) as never,
      subscribe: (args) => (args as EnvelopedArgs).run.subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
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
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const args: EnvelopedArgs = {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          run: { execute, subscribe },
        };
        return args;
      },
      // Subscriptions send their results themselves: one serialisation per result, shared by
      // every subscriber of the same operation, instead of graphql-ws's one per message.
      onOperation: (ctx, id, _payload, args, result) =>
        isAsyncIterable(result)
          ? sendNextMessages(result, ctx.extra.socket, id, readableSignalOf(args.contextValue))
          : undefined,
    },
    wss,
  );
  wss.on("error", (error) => options.log.warn({ err: error }, "WebSocket server error"));
  return {
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
