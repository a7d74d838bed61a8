/**
 * The types that several layers share, in one module at the bottom: it holds no code and
 * imports nothing, so any layer may import it and no two layers import each other for a type.
 *
 * Glossary: a *product* is one stored value with its metadata ({@link StoredProduct}); an
 * *update* is one version of a product as subscriptions deliver it ({@link ProductUpdate}); a
 * *target* is a key the engine resolved for a primer's params ({@link ProductTarget}); the
 * *request context* is what every GraphQL resolver receives ({@link RequestContext}), whose
 * parts are narrow interfaces: what a resolver may call, not the objects behind them.
 *
 * @module
 */

/** One stored product: its value and what KCK knows about it. */
export interface StoredProduct {
  readonly key: string;
  readonly primer: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly value: unknown;
  /** Grows by one each time the value really changes (its hash differs). 0: never computed. */
  readonly version: number;
  readonly hash: string | null;
  readonly computedAt: Date | null;
  /** Until then the value is served as is; null: fresh until refreshed or invalidated. */
  readonly freshUntil: Date | null;
  /** Until then the value may be served stale; null: always. */
  readonly staleUntil: Date | null;
  readonly computeCount: number;
  readonly lastComputeMs: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
  readonly errorCount: number;
  /** How many deltas were applied to it in place since it was first stored. */
  readonly augmentCount: number;
  /** When the last delta was applied; null: never augmented. */
  readonly lastAugmentedAt: Date | null;
  /** How many times it was invalidated: a compute that saw fewer stores its value expired. */
  readonly invalidations: number;
  /**
   * Set when this version says the product does not exist (its compute threw `notFound`): the
   * message readers get with the code NOT_FOUND. Null for a version with a value.
   */
  readonly notFound: string | null;
  /** The version of the primer code that computed the value; null: not recorded. */
  readonly codeVersion: string | null;
}

/** One version of a product, as subscriptions deliver it and augment mutations return it. */
export interface ProductUpdate {
  readonly key: string;
  readonly version: number;
  readonly value: unknown;
  /** Set when this version says the product does not exist: its NOT_FOUND message. */
  readonly notFound?: string | null;
}

/**
 * A stream that says when reading it would not wait, so that a consumer can call `next()`
 * only then instead of leaving a pending `next()` (and the promises of every layer above it)
 * alive from one version to the next.
 */
export interface ReadableSignal {
  /**
   * Calls back once, as soon as `next()` would settle at once: an update is buffered or the
   * stream has ended (at once if that is already so).
   */
  whenReadable(callback: () => void): void;
}

/**
 * A primer as the request context's methods take it. The schema hands them the very primer
 * objects it was built from; the engine checks that it serves that primer (UNKNOWN_PRIMER
 * otherwise), so nothing but the name is read here.
 */
export interface PrimerRef {
  readonly name: string;
}

/**
 * A product's key resolved against its primer ({@link ResolverEngine.resolve}): what a read
 * or a subscription takes. Resolvers pass it on as they got it; the engine's `ParsedKey` is one.
 */
export interface ProductTarget {
  /** The canonical key. */
  readonly key: string;
}

/** Options of one augment, as the augment mutation passes them. */
export interface AugmentRequest {
  /** Apply the delta only if the product is at this version (CONFLICT otherwise). */
  readonly expectedVersion?: number | undefined;
  /** Makes a retry safe: the same key within a day is not applied again. */
  readonly idempotencyKey?: string | undefined;
}

/** Where a product's background refresh stands in the job queue. */
export type JobStatus = "WAITING" | "RUNNING" | "RETRYING" | "FAILED";

/** The background job (refresh or prime) waiting or running for one product. */
export interface JobState {
  /** The job's task: kck_refresh or kck_prime. */
  readonly task: string;
  readonly status: JobStatus;
  /** Attempts so far (0 until it first fails). */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** The error of the last failed attempt. */
  readonly lastError: string | null;
  /** When it runs (next). */
  readonly runAt: Date;
}

/**
 * The engine as resolvers see it: what a resolver may call. The engine implements it (its own
 * signatures are typed by the primers it serves; these are what the schema needs of them).
 */
export interface ResolverEngine {
  /** The target of a primer's params; the primer must be one this instance serves. */
  resolve(primer: PrimerRef, params: Readonly<Record<string, unknown>>): ProductTarget;
  /** A product's stored state, without computing it; undefined when never stored. */
  inspect(key: string): Promise<StoredProduct | undefined>;
  /** Stored products by canonical key, in the order given, skipping keys never stored. */
  productsByKey(keys: readonly string[]): Promise<StoredProduct[]>;
  /** The keys a product read when last computed, and the keys that read it. */
  edges(key: string): Promise<{ dependencies: string[]; dependents: string[] }>;
  /** Recomputes a product now, whatever its freshness, and returns what was stored. */
  refresh(key: string): Promise<StoredProduct>;
  /** Marks a product expired so that its next read recomputes it; undefined when never stored. */
  invalidate(key: string): Promise<StoredProduct | undefined>;
  /** Computes products ahead of demand; resolves with their canonical keys. */
  prime(keys: readonly string[]): Promise<string[]>;
  /** Applies one delta to a primer's product in place and returns what was stored. */
  augment(
    primer: PrimerRef,
    params: Readonly<Record<string, unknown>>,
    delta: unknown,
    options?: AugmentRequest,
  ): Promise<StoredProduct>;
  /** The background job (refresh or prime) waiting or running for a product; undefined: none. */
  refreshJob(key: string): Promise<JobState | undefined>;
}

/** This request's reads of products: one SQL read per tick, misses computed once. */
export interface ProductLoader {
  load(target: ProductTarget): Promise<StoredProduct>;
}

/** This instance's subscriptions, as a subscription field starts one. */
export interface SubscriptionSource {
  /**
   * The updates of a product: its current version (computed first if it is missing) unless
   * the client saw it (`sinceVersion`), then every newer one.
   */
  subscribe(
    target: ProductTarget,
    sinceVersion?: number,
    admitNew?: () => Promise<void>,
  ): Promise<AsyncIterable<ProductUpdate>>;
}

/** What every resolver receives: the engine and this request's product loader. */
export interface RequestContext {
  /** The engine serving this gateway instance. */
  readonly kck: ResolverEngine;
  /** Reads products for this one operation: one SQL read per tick, misses computed once. */
  readonly products: ProductLoader;
  /** The bearer token the client sent, if any. */
  readonly token: string | undefined;
  /** This instance's subscriptions: one read per new version of a key, shared by all. */
  readonly hub: SubscriptionSource;
  /** What `products` served in this operation (for caching hints and the response cache). */
  readonly served: ServedLog;
  /**
   * Whether this caller may read the stored causes of failures (`lastError`): false in
   * production (`maskErrors`) unless it sent the admin token. @default true
   */
  readonly revealErrors?: boolean;
  /** The client's new-key limit, when one is set: asked before computing a key not stored. */
  readonly admitNew?: (() => Promise<void>) | undefined;
  /**
   * The source stream of this context's subscription, when it says when it is readable: set
   * when the subscription starts (`useSharedSubscriptionResults`), read by the WebSocket
   * sender, which asks for a next result only once one is there.
   */
  subscriptionSource?: ReadableSignal;
}

/**
 * What the gateway's HTTP layer hands yoga with a request besides the request itself: the
 * response fast path's log, in which `useCacheHints` records the answer it built.
 */
export interface KckServerContext {
  kckServed?: ServedLog | undefined;
}

/** The products one operation was served, so that its response can be cached against them. */
export interface ServedLog {
  /** Every product served, as the very objects the engine returned. */
  readonly products: StoredProduct[];
  /** Whether any product read failed (its field is an error, not a value). */
  failed: boolean;
  /**
   * A cacheable answer's parts as the gateway sent them, recorded for the response fast path:
   * everything but the `Cache-Control` (computed at each send) and the status (always 200).
   */
  answer?: CapturedAnswer;
}

/** A 200 answer of a pure product read, kept to be sent again. */
export interface CapturedAnswer {
  /** Its headers, names in lower case, without `cache-control` and `content-length`. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
  /** The body's ETag (also among the headers). */
  readonly etag: string;
}

/** The Pothos type configuration every KCK schema, and every primer's output type, shares. */
export type KckSchemaTypes = PothosSchemaTypes.ExtendDefaultTypes<{
  Context: RequestContext;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
    /** A 64-bit integer: a bigint in code; stored and sent as a decimal string. */
    BigInt: { Input: bigint; Output: bigint | string };
  };
  DefaultFieldNullability: false;
}>;
