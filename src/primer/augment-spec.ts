import type { AnyPrimer, PrimerParams, PrimerValue } from "./define-primer.ts";
import type { KckInput } from "./input-type.ts";

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
