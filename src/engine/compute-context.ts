import type { Queryable } from "../db/db.ts";
import type { ParsedKey } from "../keys.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import type { ComputeContext, TypedProduct } from "../primer/primer-types.ts";

export type { ComputeContext, TypedProduct };

import { notFound } from "./not-found.ts";
import type { StoredProduct } from "./product.ts";

/** What `ctx.unchanged()` returns: tells the engine to keep the stored value. */
export const UNCHANGED: unique symbol = Symbol("kck.unchanged");

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
