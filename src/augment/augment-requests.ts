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
