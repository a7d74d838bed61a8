import type { Queryable } from "../db/db.ts";
import type { ParsedKey } from "../keys.ts";
import type { AnyPrimer, PrimerParams, PrimerValue } from "../primer/define-primer.ts";
import { notFound } from "./not-found.ts";
import type { StoredProduct } from "./product.ts";

/** What `ctx.unchanged()` returns: tells the engine to keep the stored value. */
export const UNCHANGED: unique symbol = Symbol("kck.unchanged");

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

/** What the context needs from the engine. */
export interface ContextHost {
  /** Parses a key string against the known primers. */
  parse(key: string): ParsedKey;
  /** Builds the parsed key of a known primer's params. */
  resolve(primer: AnyPrimer, params: Readonly<Record<string, unknown>>): ParsedKey;
  /** Reads a dependency on behalf of the compute of `dependent`. */
  readDependency(target: ParsedKey): Promise<unknown>;
  /** Reads a stored product without computing it. */
  readStored(key: string): Promise<StoredProduct | undefined>;
  /** Runs one of the compute's statements (cancelled when the compute is abandoned). */
  readonly db: Queryable;
}

/** Builds a compute's context; `dependencies` collects every key it reads. */
export function createComputeContext(
  host: ContextHost,
  key: string,
  dependencies: Set<string>,
  signal: AbortSignal,
): ComputeContext {
  const read = (target: ParsedKey): Promise<unknown> => {
    // An abandoned compute (timed out, or KCK stopping) must not go on reading or recording.
    signal.throwIfAborted();
    dependencies.add(target.key);
    return host.readDependency(target);
  };
  return {
    key,
    signal,
    get: async (primer, params) => (await read(host.resolve(primer, params))) as never,
    getKey: (dependencyKey) => read(host.parse(dependencyKey)),
    sql: async (text, values) => {
      signal.throwIfAborted();
      return (await host.db.query(text, values)).rows as never;
    },
    previous: () => host.readStored(key) as Promise<TypedProduct<never> | undefined>,
    unchanged: () => UNCHANGED as never,
    notFound: (message) => {
      throw notFound(message ?? `The product ${key} does not exist.`);
    },
  };
}
