/**
 * The authoring types that refer to each other (a primer, its compute's context, its augment
 * spec and rules), in one types-only module so that no two primer files import each other.
 * `define-primer.ts`, `augment-spec.ts` and the engine's `compute-context.ts` re-export them.
 *
 * @module
 */
import type { ShapeFromTypeParam, TypeParam } from "@pothos/core";
import type { KckSchemaTypes, StoredProduct } from "../types.ts";
import type { CodeChangePolicy } from "./code-version.ts";
import type { KckInput } from "./input-type.ts";
import type { ParamsOf, ParamsSpec } from "./params.ts";
import type { RefreshPolicies } from "./policies.ts";
import type { NormalisedStoreLimits } from "./store-limits.ts";

/** A primer's GraphQL output type: a scalar name, a defined object, or a one-item list of them. */
export type OutputType = TypeParam<KckSchemaTypes>;

/** The TypeScript type of a primer's value, from its GraphQL output type. */
export type ValueOf<T extends OutputType> = ShapeFromTypeParam<KckSchemaTypes, T, false>;

/** `null` when a primer is declared `nullable: true`, nothing otherwise. */
export type Nullable<N extends boolean> = N extends true ? null : never;

/** A declared primer: its options, normalised. */
export interface Primer<
  S extends ParamsSpec = ParamsSpec,
  T extends OutputType = OutputType,
  D = unknown,
> {
  /** Marks a primer among a module's exports. */
  readonly kind: "primer";
  readonly name: string;
  readonly description: string | undefined;
  readonly params: S;
  /** Param names in key order. */
  readonly paramNames: readonly string[];
  readonly type: T;
  readonly compute: (
    params: ParamsOf<S>,
    ctx: ComputeContext<ValueOf<T>>,
  ) => Promise<ValueOf<T>> | ValueOf<T>;
  /** Whether null is one of its values (subscription updates type `value` as nullable). */
  readonly nullable: boolean;
  /** Milliseconds a value stays fresh (Infinity: until refreshed or invalidated). */
  readonly freshMs: number;
  /** Milliseconds a value may be served stale after that (Infinity: always). */
  readonly staleMs: number;
  /** Milliseconds one compute may run; undefined: the engine's default. */
  readonly timeoutMs: number | undefined;
  /** How its products are kept fresh in the background (sources, schedule, hints, ...). */
  readonly policies: RefreshPolicies<S>;
  /** How to apply a delta in place; undefined: the primer cannot be augmented. */
  readonly augment: AugmentSpec<ParamsOf<S>, ValueOf<T>, D> | undefined;
  /** How to follow the augments of the products it reads. */
  readonly augmentFrom: readonly AnyAugmentFromRule[];
  /** Its store limits; undefined fields take the app's defaults. */
  readonly store: NormalisedStoreLimits;
  /**
   * The version of its code: the explicit `version`, or a hash of its definition (and, once
   * the primer loader has bound it, of its module's code).
   */
  readonly codeVersion: string;
  /** What a change of code version does to its stored products. */
  readonly onCodeChange: CodeChangePolicy;
}

/** Any primer, whatever its params and type. */
// biome-ignore lint/suspicious/noExplicitAny: a primer of any params, value and delta type
export type AnyPrimer = Primer<any, any, any>;

/** The params object of a primer. */
export type PrimerParams<P extends AnyPrimer> = P extends {
  readonly params: infer S extends ParamsSpec;
}
  ? ParamsOf<S>
  : never;

/** The value type of a primer. */
export type PrimerValue<P extends AnyPrimer> = P extends {
  readonly type: infer T extends OutputType;
}
  ? ValueOf<T>
  : never;

/** A stored product whose value has its primer's value type. */
export type TypedProduct<V> = Omit<StoredProduct, "value"> & { readonly value: V };

/**
 * What a primer's `compute` receives besides its params. Reading another product through it
 * records the dependency edge: nothing is declared by hand. `V` is the primer's value type.
 */
export interface ComputeContext<V = unknown> {
  /** The key being computed. */
  readonly key: string;
  /** Reads another product (computing it if needed) and records that this one depends on it. */
  get<P extends AnyPrimer>(primer: P, params: PrimerParams<P>): Promise<PrimerValue<P>>;
  /** The same by key string, for keys built at run time. */
  getKey(key: string): Promise<unknown>;
  /** Runs one parameterised SQL statement on the cache's database and returns its rows. */
  sql<R extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<R[]>;
  /** Aborted when the compute is abandoned (timeout or shutdown). */
  readonly signal: AbortSignal;
  /**
   * The product as stored before this compute (its last good value, version and times), or
   * undefined when there is none; for conditional requests (an ETag kept in the value).
   */
  previous(): Promise<TypedProduct<V> | undefined>;
  /**
   * Returned from `compute` (`return ctx.unchanged()`) when the source reports that nothing
   * changed, such as an HTTP 304: the stored value stays, its version does not grow, and only
   * its freshness moves. Nothing downstream is refreshed.
   */
  unchanged(): never;
  /**
   * Says that this product does not exist (its source row was deleted, say):
   * `return ctx.notFound("No author 7.")`. Stored as a new version: readers and subscribers get
   * a NOT_FOUND error with this message (not the last good value) until a compute returns a
   * value again. Same as `throw notFound(message)`.
   */
  notFound(message?: string): never;
}

/** What a rule's reducer receives besides the current value and the change. */
export interface RuleContext<Params> {
  /** The key being augmented. */
  readonly key: string;
  readonly params: Params;
}

/** What a reducer receives besides the current value and the delta. */
export interface AugmentContext<Params> extends RuleContext<Params> {
  /**
   * Runs one parameterised statement inside the augment's transaction, under the product's
   * lock: the place to record the delta in the primer's source tables, so that a later
   * recompute agrees with the augmented value, and so that both commit or neither does.
   */
  sql<R extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<R[]>;
}

/**
 * How a primer's products are augmented: the delta's GraphQL input type and the reducer that
 * applies one delta to the current value. The reducer runs in the augment's transaction and
 * may throw a KckError to refuse a delta (nothing is written then).
 */
export interface AugmentSpec<Params, Value, Delta> {
  /** The delta's input type, from {@link defineInput}. */
  readonly delta: KckInput<Delta>;
  /** Returns the next value: `(current, delta, ctx) => next`. */
  reduce(current: Value, delta: Delta, ctx: AugmentContext<Params>): Value | Promise<Value>;
}

/** The delta type of a primer that can be augmented (never for one that cannot). */
export type DeltaOf<P extends AnyPrimer> = P extends {
  readonly augment?: { readonly delta: KckInput<infer D> } | undefined;
}
  ? D
  : never;

/**
 * A dependency's change, as a dependent's rule sees it. It runs in the same transaction as
 * the dependency's augment, so `previous` and `value` are exact.
 */
export interface DependencyChange<P extends AnyPrimer> {
  /** The dependency's key. */
  readonly key: string;
  readonly params: PrimerParams<P>;
  /** The dependency's value before this augment. */
  readonly previous: PrimerValue<P>;
  /** The dependency's value after it. */
  readonly value: PrimerValue<P>;
  /**
   * The delta the dependency was augmented with; undefined when the dependency was itself
   * updated by a rule (a chain two or more steps long), so such rules should use the values.
   */
  readonly delta: DeltaOf<P> | undefined;
}

/**
 * How a primer augments its own products when a product it depends on is augmented, so that
 * a chain of products stays incremental instead of being invalidated.
 */
export interface AugmentFromRule<Params, Value, P extends AnyPrimer> {
  /** The dependency's primer. */
  readonly primer: P;
  /**
   * The params of this primer's product(s) affected by a change of the dependency with
   * `dependencyParams` (the change says what happened, when the params alone cannot). Of
   * the products that read the dependency (a recorded edge), those named are augmented and
   * the others are left as they are: the rule says this change does not affect them. If
   * the rule throws, they are all invalidated instead.
   */
  params(
    dependencyParams: PrimerParams<P>,
    change: DependencyChange<P>,
  ): Params | readonly Params[];
  /**
   * Returns the next value of an affected product. It must be a pure function of its
   * arguments: it runs inside the dependency's augment, and a rule that throws only makes
   * its product fall back to invalidation.
   */
  reduce(current: Value, change: DependencyChange<P>, ctx: RuleContext<Params>): Value;
}

/** A rule of any primer, as the engine handles it. */
// biome-ignore lint/suspicious/noExplicitAny: rules of any params, value and dependency
export type AnyAugmentFromRule = AugmentFromRule<any, any, AnyPrimer>;

/** An augment spec of any primer, as the engine handles it. */
// biome-ignore lint/suspicious/noExplicitAny: specs of any params, value and delta
export type AnyAugmentSpec = AugmentSpec<any, any, any>;
