import type { StoredProduct } from "../types.ts";

// Defined with the other shared types (src/types.ts); the engine's modules import it from here.
export type { StoredProduct };

/**
 * Where a product stands. FRESH: served as is. STALE: served at once while a refresh runs.
 * EXPIRED: recomputed before it is served. MISSING: never computed successfully.
 */
export type Freshness = "FRESH" | "STALE" | "EXPIRED" | "MISSING";

/** The freshness of a stored product (or of none) at a moment. */
export function freshnessOf(
  product: Pick<StoredProduct, "computedAt" | "freshUntil" | "staleUntil"> | undefined,
  now = Date.now(),
): Freshness {
  if (product === undefined || product.computedAt === null) return "MISSING";
  if (product.freshUntil === null || product.freshUntil.getTime() > now) return "FRESH";
  if (product.staleUntil === null || product.staleUntil.getTime() > now) return "STALE";
  return "EXPIRED";
}
