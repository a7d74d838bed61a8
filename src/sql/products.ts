import type { Queryable } from "../db/db.ts";
import type { StoredProduct } from "../types.ts";

export type { StoredProduct };

/** The select list that reads a row of kck.products as a {@link StoredProduct}. */
export const COLUMNS = `key, primer, params, value, version, hash,
  computed_at as "computedAt", fresh_until as "freshUntil", stale_until as "staleUntil",
  compute_count as "computeCount", last_compute_ms as "lastComputeMs",
  last_error as "lastError", last_error_at as "lastErrorAt", error_count as "errorCount",
  augment_count as "augmentCount", last_augmented_at as "lastAugmentedAt",
  invalidations, not_found as "notFound", code_version as "codeVersion"`;

/** Reads the stored products for many keys in one statement. */
export async function readProducts(
  q: Queryable,
  keys: readonly string[],
): Promise<Map<string, StoredProduct>> {
  const { rows } = await q.query<StoredProduct>(
    `select ${COLUMNS} from kck.products where key = any($1)`,
    [keys],
    "kck_read_products",
  );
  return new Map(rows.map((row) => [row.key, row]));
}

/** Reads one stored product. */
export async function readProduct(q: Queryable, key: string): Promise<StoredProduct | undefined> {
  const { rows } = await q.query<StoredProduct>(
    `select ${COLUMNS} from kck.products where key = $1`,
    [key],
    "kck_read_product",
  );
  return rows[0];
}

/** A lock attempt and the row it read, as the two plpgsql functions of migration 000005 give. */
async function lockingRead(
  q: Queryable,
  fn: "lock_and_read" | "read_or_lock",
  key: string,
): Promise<{ locked: boolean; product: StoredProduct | undefined }> {
  const { rows } = await q.query<StoredProduct & { locked: boolean }>(
    `select l.locked, ${COLUMNS} from kck.${fn}($1) as l
     cross join lateral (select (l.product).*) as p`,
    [key],
    `kck_${fn}`,
  );
  const { locked, ...product } = rows[0] as StoredProduct & { locked: boolean };
  return { locked, product: product.key === null ? undefined : product };
}

/**
 * Takes the cross-process compute lock of a key without waiting, as `tryLock` (./locks.ts)
 * does, and when it is taken reads the key's row in the same round trip, in a snapshot taken
 * after the lock (so it holds every value committed by whoever held the lock before).
 * `product` is undefined when the lock was not taken or the key was never stored.
 */
export function tryLockThenRead(
  q: Queryable,
  key: string,
): Promise<{ locked: boolean; product: StoredProduct | undefined }> {
  return lockingRead(q, "lock_and_read", key);
}

/**
 * Reads a key's row, and when it holds nothing to serve (missing, failed only, or expired by
 * the database's clock) also tries the key's compute lock and, if taken, reads the row again
 * after it, as {@link tryLockThenRead} does: one round trip for a read and, on a miss, the
 * start of its compute. `product` is the row read last.
 */
export function readOrLock(
  q: Queryable,
  key: string,
): Promise<{ locked: boolean; product: StoredProduct | undefined }> {
  return lockingRead(q, "read_or_lock", key);
}

/** The keys of a primer's products that hold a computed value. */
export async function computedKeysOf(q: Queryable, primer: string): Promise<string[]> {
  const { rows } = await q.query<{ key: string }>(
    "select key from kck.products where primer = $1 and computed_at is not null",
    [primer],
  );
  return rows.map((row) => row.key);
}

/** Those of `keys` whose products hold a computed value. */
export async function computedAmong(q: Queryable, keys: readonly string[]): Promise<string[]> {
  const { rows } = await q.query<{ key: string }>(
    "select key from kck.products where key = any($1::text[]) and computed_at is not null",
    [keys],
  );
  return rows.map((row) => row.key);
}
