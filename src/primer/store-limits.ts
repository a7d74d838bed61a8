import { type Duration, toMs } from "../duration.ts";
import { KckError } from "../errors.ts";

/** How many of a primer's products the store keeps, and for how long unread. */
export interface StoreLimits {
  /**
   * The most products of this primer kept: past it, eviction removes the least recently read.
   * @default the app's store.maxProducts (KCK_STORE_MAX_PRODUCTS)
   */
  maxProducts?: number;
  /**
   * Products not read for this long are removed ("forever" keeps them).
   * @default the app's store.evictAfterMs (KCK_STORE_EVICT_AFTER_MS)
   */
  evictAfter?: Duration;
}

/** A primer's store limits, normalised; undefined fields take the app's defaults. */
export interface NormalisedStoreLimits {
  readonly maxProducts: number | undefined;
  readonly evictAfterMs: number | undefined;
}

/** Checks and normalises a primer's `store` option. */
export function normaliseStoreLimits(
  primer: string,
  limits: StoreLimits | undefined,
): NormalisedStoreLimits {
  const max = limits?.maxProducts;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1) && max !== Infinity) {
    throw new KckError(
      "BAD_CONFIG",
      `Primer "${primer}" has store.maxProducts ${max}; it must be a whole number of at least 1 (or Infinity).`,
    );
  }
  return {
    maxProducts: max,
    evictAfterMs:
      limits?.evictAfter === undefined
        ? undefined
        : toMs(limits.evictAfter, `store.evictAfter of primer "${primer}"`),
  };
}
