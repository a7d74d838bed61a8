import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  getOperationAST,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { ReadableSignal, RequestContext } from "../../types.ts";

type MaybePromise<T> = T | Promise<T>;

const isReadableSignal = (value: object): value is ReadableSignal =>
  typeof (value as Partial<ReadableSignal>).whenReadable === "function";

/**
 * Executes a subscription event once for every subscriber with an identical operation: the
 * same parsed document (yoga's parser cache hands out one per query text), operation name,
 * variables and token. The hub hands every subscriber of a key the same frozen update object
 * per version, so the results are kept per update object (a WeakMap: they go when it goes).
 * Each subscriber keeps its own event stream (its own `sinceVersion`, buffer and skips) and the
 * envelop hooks that run after execution (error masking) still run per subscriber.
 *
 * When the source stream can say when it is readable (the hub's streams can), it is set as the
 * subscription's context's `subscriptionSource`: a consumer then pulls the results only when
 * one is there (see server/next-messages.ts).
 *
 * This relies on what KCK's resolvers are: the fields of an update read the update and its
 * value, never the rest of the request's context (the token, the only part that differs per
 * caller and could matter, is part of the group).
 */
export function useSharedSubscriptionResults(): Plugin {
  const documents = new WeakMap<DocumentNode, number>();
  let nextDocument = 0;
  const results = new WeakMap<object, Map<string, MaybePromise<ExecutionResult>>>();

  const groupOf = (args: ExecutionArgs): string => {
    let document = documents.get(args.document);
    if (document === undefined) {
      document = ++nextDocument;
      documents.set(args.document, document);
    }
    const token = (args.contextValue as { token?: unknown } | undefined)?.token;
    return JSON.stringify([
      document,
      args.operationName ?? null,
      args.variableValues ?? null,
      typeof token === "string" ? token : null,
    ]);
  };

  const resultFor = (
    event: unknown,
    group: string,
    args: ExecutionArgs,
  ): MaybePromise<ExecutionResult> => {
    if (typeof event !== "object" || event === null) return run(args, event);
    let byGroup = results.get(event);
    if (byGroup === undefined) {
      byGroup = new Map();
      results.set(event, byGroup);
    }
    const known = byGroup.get(group);
    if (known !== undefined) return known;
    const result = run(args, event);
    byGroup.set(group, result);
    return result;
  };

  const run = (args: ExecutionArgs, event: unknown): MaybePromise<ExecutionResult> =>
    execute({ ...args, rootValue: event });

  const subscribe = async (
    args: ExecutionArgs,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return asBadInput(source);
    const group = groupOf(args);
    const context = args.contextValue as Partial<RequestContext> | null | undefined;
    if (isReadableSignal(source) && typeof context === "object" && context !== null)
      context.subscriptionSource = source;
    const operation = getOperationAST(args.document, args.operationName);
    return mapEvents(source, (event) => resultFor(event, group, args), operation);
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe as never);
    },
  };
}

/**
 * The errors of a subscription that could not start, as yoga's executor (graphql-tools) gives
 * them: those raised before any resolver ran (no path: the variables or the operation were
 * wrong) are the client's, code BAD_USER_INPUT with HTTP status 400; a failed resolver's
 * error (it has a path) is left as it is, for error masking to judge.
 */
function asBadInput(result: ExecutionResult): ExecutionResult {
  if (result.errors === undefined) return result;
  return {
    ...result,
    errors: result.errors.map((error) =>
      error.path !== undefined
        ? error
        : new GraphQLError(error.message, {
            ...(error.nodes ? { nodes: error.nodes } : {}),
            ...(error.source ? { source: error.source } : {}),
            ...(error.positions ? { positions: error.positions } : {}),
            ...(error.originalError ? { originalError: error.originalError } : {}),
            extensions: {
              ...error.extensions,
              http: { ...(error.extensions["http"] as object | undefined), status: 400 },
              code: "BAD_USER_INPUT",
            },
          }),
    ),
  };
}

/**
 * Maps each event of a source stream to its result. Written by hand rather than as an async
 * generator so that `return()` reaches the source at once, even while a `next()` is pending
 * (a subscriber that leaves must leave the hub now, not at the next version).
 */
function mapEvents(
  source: AsyncIterable<unknown>,
  map: (event: unknown) => MaybePromise<ExecutionResult>,
  operation: ReturnType<typeof getOperationAST>,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const done = (): IteratorResult<ExecutionResult> => ({ value: undefined, done: true });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    // Then-chains rather than async/await: fewer promise ticks per subscriber and version.
    next() {
      return iterator.next().then(
        (step) => {
          if (step.done) return done();
          const result = map(step.value);
          return result instanceof Promise
            ? result.then((value) => ({ value, done: false }))
            : { value: result, done: false };
        },
        (error: unknown) => {
          // As graphql-tools' subscribe does: an error of the stream, located at the operation.
          const cause = error instanceof Error ? error : new Error(String(error));
          throw new GraphQLError(cause.message, {
            originalError: cause,
            ...(operation ? { nodes: [operation] } : {}),
          });
        },
      );
    },
    async return() {
      await iterator.return?.();
      return done();
    },
    async throw(error?: unknown) {
      await iterator.return?.();
      throw error;
    },
  };
}
