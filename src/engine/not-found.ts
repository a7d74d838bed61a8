import { KckError } from "../errors.ts";
import type { StoredProduct } from "./product.ts";

/**
 * The error a compute throws to say that its product does not exist (the source row was
 * deleted, say): `throw notFound("No author 7.")`, or `ctx.notFound(…)`. Unlike any other
 * failure, it is stored as a new version: readers and subscribers get a NOT_FOUND error
 * instead of the last good value, until a compute returns a value again. For a primer declared
 * `nullable: true`, returning `null` is the other way to say it.
 */
export function notFound(message?: string): KckError {
  return new KckError("NOT_FOUND", message ?? "This product does not exist.");
}

/** Whether an error thrown by a compute says its product does not exist. */
export function isNotFound(error: unknown): error is KckError {
  return error instanceof KckError && error.code === "NOT_FOUND";
}

/** The error readers get for a stored NOT_FOUND version. */
export function notFoundError(product: { key: string; notFound?: string | null }): KckError {
  return new KckError(
    "NOT_FOUND",
    product.notFound || `The product ${product.key} does not exist.`,
  );
}

/** A product as its readers get it: a stored NOT_FOUND version becomes its error. */
export function asServed<T extends StoredProduct | Error>(result: T): T | KckError {
  if (result instanceof Error || result.notFound === null || result.notFound === undefined)
    return result;
  return notFoundError(result);
}
