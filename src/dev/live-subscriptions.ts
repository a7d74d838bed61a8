import { type ExecutionArgs, type ExecutionResult, GraphQLError } from "graphql";
import type { Gateway } from "../gateway/server/yoga.ts";

/** One app's envelop pipeline for one operation (what `gateway.getEnveloped` gives). */
export type Enveloped = ReturnType<Gateway["getEnveloped"]>;

/** Gives the current app's pipeline for an operation's initial context. */
export type Envelop = (initial: Record<string, unknown>) => Enveloped;

const done = (): IteratorResult<ExecutionResult> => ({ value: undefined, done: true });

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/**
 * A subscription whose results come from one app's pipeline until it is moved to another's:
 * the results it reads are the current source's, and a source replaced while a read waits is
 * left for the new one. It can also be ended with a last result (the reason it ended).
 */
class LiveSubscription implements AsyncIterableIterator<ExecutionResult> {
  private last: ExecutionResult | undefined;
  private closed = false;

  constructor(
    /** The operation's initial context (graphql-ws's, with the request and the payload). */
    readonly initial: Record<string, unknown>,
    /** What the operation runs: its document, operation name and variables. */
    readonly args: Omit<ExecutionArgs, "schema" | "contextValue">,
    private source: AsyncIterator<ExecutionResult>,
    private readonly forget: (subscription: LiveSubscription) => void,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    for (;;) {
      if (this.closed) return done();
      if (this.last !== undefined) {
        const value = this.last;
        this.last = undefined;
        this.close();
        return { value, done: false };
      }
      const source = this.source;
      const step = await source.next();
      // Moved or ended while this read waited: what the old source gave is not sent.
      if (source !== this.source || this.last !== undefined) continue;
      if (step.done) this.close();
      return step;
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.close();
    await this.source.return?.();
    return done();
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.return();
    throw error;
  }

  /** Reads from `source` from now on; the old source is stopped. */
  async move(source: AsyncIterator<ExecutionResult>): Promise<void> {
    const old = this.source;
    this.source = source;
    if (this.closed) await source.return?.();
    await old.return?.();
  }

  /** Sends `result` as the last one, then completes; the source is stopped. */
  async end(result: ExecutionResult): Promise<void> {
    this.last = result;
    await this.source.return?.();
  }

  private close(): void {
    this.closed = true;
    this.forget(this);
  }
}

/** What {@link LiveSubscriptions.moveAll} did. */
export interface Moved {
  /** Subscriptions now served by the new pipeline. */
  readonly moved: number;
  /** Subscriptions ended with a message: their operation no longer fits the new schema. */
  readonly ended: number;
}

/**
 * The WebSocket subscriptions of `kck dev`, which outlive the app they started on: when a new
 * app is swapped in, each is started again on it (its client gets the current value again, as
 * the new code computes it), or, when its operation no longer validates against the new schema
 * (a field removed, an argument changed), ended with a result whose error says why, then a
 * `complete`.
 */
export class LiveSubscriptions {
  private readonly live = new Set<LiveSubscription>();
  // The pipeline of the latest move, and how many moves there were: a subscription that was
  // starting while one happened moves as soon as it has started.
  private latest: Envelop | undefined;
  private moves = 0;

  /** How many subscriptions are open. */
  get size(): number {
    return this.live.size;
  }

  /**
   * Starts a subscription on `enveloped` and returns it as a stream that can be moved. The
   * context is copied for the app's pipeline: the WebSocket endpoint finds no `subscriptionSource`
   * under the original (a moved stream's signal would be the old app's) and simply reads.
   */
  async subscribe(
    initial: Record<string, unknown>,
    enveloped: Enveloped,
    args: ExecutionArgs,
  ): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
    const { schema: _schema, contextValue, ...operation } = args;
    const moves = this.moves;
    const result = await enveloped.subscribe({
      ...args,
      contextValue: { ...(contextValue as object) },
    });
    if (!isAsyncIterable(result)) return result as ExecutionResult;
    const subscription = new LiveSubscription(
      initial,
      operation,
      result[Symbol.asyncIterator](),
      (s) => this.live.delete(s),
    );
    this.live.add(subscription);
    if (this.moves !== moves && this.latest !== undefined) {
      await this.move(subscription, this.latest);
    }
    return subscription;
  }

  /** Moves every open subscription to the pipeline `envelop` gives, or ends it with the reason. */
  async moveAll(envelop: Envelop): Promise<Moved> {
    this.moves++;
    this.latest = envelop;
    let moved = 0;
    let ended = 0;
    await Promise.all(
      [...this.live].map(async (subscription) => {
        if (await this.move(subscription, envelop)) moved++;
        else ended++;
      }),
    );
    return { moved, ended };
  }

  private async move(subscription: LiveSubscription, envelop: Envelop): Promise<boolean> {
    try {
      const enveloped = envelop(subscription.initial);
      const errors = enveloped.validate(enveloped.schema, subscription.args.document);
      if (errors.length > 0) {
        await subscription.end({ errors: [schemaChanged(errors)] });
        return false;
      }
      const result = await enveloped.subscribe({
        ...subscription.args,
        schema: enveloped.schema,
        contextValue: await enveloped.contextFactory(),
      });
      if (!isAsyncIterable(result)) {
        await subscription.end(result as ExecutionResult);
        return false;
      }
      await subscription.move(result[Symbol.asyncIterator]());
      return true;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await subscription.end({
        errors: [
          new GraphQLError(
            `This subscription ended: kck dev reloaded the primers and could not start it again (${reason}).`,
            { extensions: { code: "SCHEMA_CHANGED" } },
          ),
        ],
      });
      return false;
    }
  }
}

/** The error that ends a subscription whose operation the new schema does not accept. */
function schemaChanged(errors: readonly GraphQLError[]): GraphQLError {
  return new GraphQLError(
    `This subscription ended: kck dev reloaded the primers and the new schema does not accept its operation (${errors.map((e) => e.message).join(" ")}).`,
    { extensions: { code: "SCHEMA_CHANGED" } },
  );
}
