import type { KckSchemaTypes, StoredProduct } from "../types.ts";
import type { KckBuilder } from "./builder.ts";

/** Adds the refresh, invalidate and prime mutations. */
export function addMutations(
  builder: KckBuilder,
  Product: PothosSchemaTypes.ObjectRef<KckSchemaTypes, StoredProduct>,
): void {
  builder.mutationFields((t) => ({
    refresh: t.field({
      type: Product,
      // Nullable, so that one failing refresh in a multi-field mutation leaves the others' results.
      nullable: true,
      description: "Recomputes a product now, whatever its freshness, and returns what was stored.",
      args: { key: t.arg.string({ required: true }) },
      resolve: (_root, { key }, ctx) => ctx.kck.refresh(key),
    }),
    invalidate: t.field({
      type: Product,
      nullable: true,
      description:
        "Marks a product expired so that its next read recomputes it; null when it was never stored.",
      args: { key: t.arg.string({ required: true }) },
      resolve: (_root, { key }, ctx) => ctx.kck.invalidate(key),
    }),
    prime: t.stringList({
      description:
        "Computes products ahead of demand (those missing, stale or expired), as background jobs; returns their canonical keys at once. One bad key primes nothing.",
      args: { keys: t.arg.stringList({ required: true }) },
      resolve: (_root, { keys }, ctx) => ctx.kck.prime(keys),
    }),
  }));
}
