import type { Queryable } from "../db/db.ts";
import { KckError } from "../errors.ts";

/** The longest idempotency key an augment may carry. */
export const MAX_IDEMPOTENCY_KEY = 200;

/** Checks an augment's idempotency key before anything is queued; throws BAD_PARAM. */
export function checkIdempotencyKey(key: string | undefined): void {
  if (key === undefined) return;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY) {
    throw new KckError(
      "BAD_PARAM",
      `An idempotency key must be 1 to ${MAX_IDEMPOTENCY_KEY} characters long; got ${key.length}. Send one per augment (a UUID, say) and the same one when you retry it.`,
    );
  }
}

/**
 * The idempotency keys among `requests` that already augmented `product`, each with the
 * version it made. Called under the product's lock, so no other augment of it can be adding one.
 */
export async function appliedRequests(
  q: Queryable,
  product: string,
  requests: readonly string[],
): Promise<Map<string, number>> {
  if (requests.length === 0) return new Map();
  const { rows } = await q.query<{ request: string; version: number }>(
    "select request, version from kck.augment_requests where product = $1 and request = any($2)",
    [product, requests],
    "kck_applied_requests",
  );
  return new Map(rows.map((row) => [row.request, row.version]));
}

/**
 * Records the idempotency keys of augments just applied to `product`, in their transaction,
 * and lets the product's records older than a day go.
 */
export async function recordRequests(
  q: Queryable,
  product: string,
  applied: readonly { request: string; version: number }[],
): Promise<void> {
  if (applied.length === 0) return;
  await q.query(
    `with old as (
       delete from kck.augment_requests
       where product = $1 and created_at < now() - interval '1 day'
     )
     insert into kck.augment_requests (product, request, version)
     select $1, r, v from unnest($2::text[], $3::int[]) as t(r, v)`,
    [product, applied.map((a) => a.request), applied.map((a) => a.version)],
    "kck_record_requests",
  );
}
