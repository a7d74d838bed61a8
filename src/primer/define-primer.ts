import { type Duration, toMs } from "../duration.ts";
import { KckError } from "../errors.ts";
import { type CodeChangePolicy, defaultCodeVersion, hashDefinition } from "./code-version.ts";
import type { ParamsOf, ParamsSpec } from "./params.ts";
import {
  type DependencyPolicy,
  type Hints,
  normalisePolicies,
  type ScheduleOptions,
  type SourceOptions,
} from "./policies.ts";
import type {
  AnyAugmentFromRule,
  AnyPrimer,
  AugmentFromRule,
  AugmentSpec,
  ComputeContext,
  Nullable,
  OutputType,
  Primer,
  ValueOf,
} from "./primer-types.ts";
import { normaliseStoreLimits, type StoreLimits } from "./store-limits.ts";

export type {
  AnyPrimer,
  Nullable,
  OutputType,
  Primer,
  PrimerParams,
  PrimerValue,
  ValueOf,
} from "./primer-types.ts";

/** What a developer writes to declare a primer. */
export interface PrimerOptions<
  S extends ParamsSpec,
  T extends OutputType,
  D = never,
  R extends readonly AnyPrimer[] = readonly AnyPrimer[],
  N extends boolean = false,
> {
  /** The primer's name: the first segment of its keys and its GraphQL field name. */
  name: string;
  /** Shown on the GraphQL field. */
  description?: string;
  /** Typed params, in key order: `{ authorId: param.int() }` gives keys like `titleList/42`. */
  params: S;
  /** The GraphQL output type of the value. */
  type: T;
  /**
   * Computes the value for one set of params. Reads other products through `ctx.get`. To say
   * that the product does not exist, `return ctx.notFound()` (or, when `nullable`, `null`).
   */
  compute(
    params: ParamsOf<S>,
    ctx: ComputeContext<ValueOf<T>>,
  ): Promise<ValueOf<T> | Nullable<N>> | ValueOf<T> | Nullable<N>;
  /**
   * Whether `null` is a value of this primer: a compute may return it (to say "there is no
   * such thing", say), and it is stored and pushed like any value. Subscription updates then
   * type `value` as nullable.
   * @default false
   */
  nullable?: N;
  /**
   * How long a computed value is served as is.
   * @default "forever"
   */
  fresh?: Duration;
  /**
   * How long after it stops being fresh a value may still be served (stale) while a refresh
   * runs in the background. After that it is expired and recomputed before it is served.
   * @default "forever"
   */
  stale?: Duration;
  /**
   * How long one compute may run before it is abandoned with a TIMEOUT error (its lock is
   * released and the last good value kept).
   * @default the engine's computeTimeoutMs (2 minutes)
   */
  timeout?: Duration;
  /**
   * PostgreSQL tables this primer reads. KCK installs triggers on them (idempotently, at start)
   * that add a refresh job in the writer's own transaction for exactly the products a changed
   * row maps to: `{ table: "books", params: { authorId: "author_id" } }` refreshes
   * `titleList/42` when a book of author 42 is inserted, updated (old and new author) or
   * deleted. Without `params`, any change refreshes every stored product of this primer.
   */
  sources?: readonly SourceOptions<S>[];
  /**
   * Refreshes products on an interval (`every`) or a cron expression (`cron`, minute
   * resolution): those read within `readWithin`, or every params of `domain`, or else every
   * stored product of this primer.
   */
  schedule?: ScheduleOptions<S>;
  /**
   * What happens to a product of this primer when a product it read gets a new value:
   * recomputed in the background ("refresh"), or marked expired so that its next read
   * recomputes it ("invalidate"). Either way the wave goes on to its own dependents.
   * @default "refresh"
   */
  onDependencyChange?: DependencyPolicy;
  /**
   * What is likely asked next after a product of this primer is read: keys, or params of this
   * primer. They are primed in the background (computed unless fresh), deduplicated.
   */
  hints?: Hints<S>;
  /**
   * The least time between two refreshes that source changes or dependency changes ask for.
   * A change to a product not computed for this long is refreshed at once; later changes
   * wait until this long after the last compute, and those that arrive meanwhile fold into
   * one refresh, so a burst of a thousand changes costs about one refresh per delay.
   * @default "100ms"
   */
  refreshDelay?: Duration;
  /**
   * How many times a background refresh of one product is attempted before it is given up
   * (with exponential backoff between attempts: about e^n seconds after the n-th failure). The
   * last good value is served meanwhile.
   * @default 10
   */
  maxAttempts?: number;
  /**
   * Lets products be augmented in place with a typed delta instead of recomputed; the
   * primer's GraphQL schema gains an `augment<Primer>` mutation.
   */
  augment?: AugmentSpec<ParamsOf<S>, ValueOf<T>, D>;
  /**
   * How to augment this primer's products when a product they read is augmented, one rule
   * per dependency primer. Without a rule, dependents are invalidated instead.
   */
  augmentFrom?: { readonly [K in keyof R]: AugmentFromRule<ParamsOf<S>, ValueOf<T>, R[K]> };
  /**
   * Bounds on how many of its products are stored, and for how long unread; eviction runs in
   * the background. `{ maxProducts: 10_000, evictAfter: "1d" }`.
   * @default the app's store options (KCK_STORE_MAX_PRODUCTS, KCK_STORE_EVICT_AFTER_MS)
   */
  store?: StoreLimits;
  /**
   * The version of this primer's code, recorded with every product it computes. When it
   * changes, the products stored by the old code are no longer served as fresh (see
   * `onCodeChange`). Set it when the compute depends on code the default does not see (a
   * package, a file it reads, a module imported by a bare or absolute specifier).
   * @default a hash of the compute function's source text, params, type and policies, and of
   * the source of the module it was loaded from with the modules that imports by relative path
   */
  version?: string;
  /**
   * What happens at start to the stored products computed by another code version: served
   * stale while a background refresh recomputes them ("stale"), or expired so that the next
   * read recomputes them before answering ("expire").
   * @default "stale"
   */
  onCodeChange?: CodeChangePolicy;
}

const NAME = /^[A-Za-z][_0-9A-Za-z]*$/;
// A GraphQL name that is not reserved for introspection (`__typename` and the like).
const PARAM_NAME = /^(?!__)[_A-Za-z][_0-9A-Za-z]*$/;
const RESERVED = new Set(["product", "products", "refresh", "invalidate", "prime", "health"]);
// The argument names the generated fields add next to a primer's params.
const RESERVED_PARAMS = new Set(["delta", "expectedVersion", "idempotencyKey", "sinceVersion"]);

/**
 * Declares a primer: how to compute one family of data products when one is asked for and
 * missing.
 *
 * @example
 * export const titleList = definePrimer({
 *   name: "titleList",
 *   params: { authorId: param.int() },
 *   type: [Title],
 *   fresh: "10m",
 *   compute: ({ authorId }, ctx) =>
 *     ctx.sql("select title from books where author_id = $1 order by title", [authorId]),
 * });
 */
export function definePrimer<
  S extends ParamsSpec,
  const T extends OutputType,
  D = never,
  const R extends readonly AnyPrimer[] = [],
  const N extends boolean = false,
>(options: PrimerOptions<S, T, D, R, N>): Primer<S, T, D> {
  if (!NAME.test(options.name) || RESERVED.has(options.name)) {
    throw new KckError(
      "BAD_CONFIG",
      `A primer name must be a GraphQL name that starts with a letter and is not one of ${[...RESERVED].join(", ")}; got "${options.name}".`,
    );
  }
  const misnamed = Object.keys(options.params).find((name) => !PARAM_NAME.test(name));
  if (misnamed !== undefined) {
    throw new KckError(
      "BAD_CONFIG",
      `Primer "${options.name}" has a param named ${JSON.stringify(misnamed)}, which is not a GraphQL name (letters, digits and _, not starting with a digit or "__"); rename it.`,
    );
  }
  const reserved = Object.keys(options.params).find((name) => RESERVED_PARAMS.has(name));
  if (reserved !== undefined) {
    throw new KckError(
      "BAD_CONFIG",
      `Primer "${options.name}" has a param named "${reserved}", which KCK's generated fields use; rename it (reserved: ${[...RESERVED_PARAMS].join(", ")}).`,
    );
  }
  const onCodeChange = options.onCodeChange ?? "stale";
  if (onCodeChange !== "stale" && onCodeChange !== "expire") {
    throw new KckError(
      "BAD_CONFIG",
      `Primer "${options.name}" has onCodeChange "${String(onCodeChange)}"; it must be "stale" or "expire".`,
    );
  }
  if (options.version !== undefined && (typeof options.version !== "string" || !options.version)) {
    throw new KckError(
      "BAD_CONFIG",
      `Primer "${options.name}" has an empty or non-string version; give a non-empty string or leave it out.`,
    );
  }
  const policies = normalisePolicies(options.name, options.params, options);
  const definition = hashDefinition({
    compute: options.compute,
    params: options.params,
    type: options.type,
    policies,
  });
  const primer: Primer<S, T, D> = {
    kind: "primer",
    name: options.name,
    description: options.description,
    params: options.params,
    paramNames: Object.keys(options.params),
    type: options.type,
    // A nullable primer's compute may also return null, which the engine stores as any value.
    compute: options.compute as Primer<S, T, D>["compute"],
    nullable: options.nullable ?? false,
    freshMs: toMs(options.fresh ?? "forever", `fresh duration of primer "${options.name}"`),
    staleMs: toMs(options.stale ?? "forever", `stale duration of primer "${options.name}"`),
    timeoutMs:
      options.timeout === undefined
        ? undefined
        : toMs(options.timeout, `timeout of primer "${options.name}"`),
    policies,
    augment: options.augment,
    augmentFrom: (options.augmentFrom ?? []) as readonly AnyAugmentFromRule[],
    store: normaliseStoreLimits(options.name, options.store),
    // A getter: the primer loader binds the module's code after the module has run.
    get codeVersion() {
      return options.version ?? defaultCodeVersion(primer, definition);
    },
    onCodeChange,
  };
  return primer;
}

/** Whether a module export is a primer. */
export function isPrimer(value: unknown): value is AnyPrimer {
  return (
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "primer"
  );
}
