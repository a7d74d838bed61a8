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
