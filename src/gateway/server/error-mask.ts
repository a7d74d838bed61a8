import { randomBytes } from "node:crypto";
import { GraphQLError } from "graphql";
import { maskError as yogaMaskError } from "graphql-yoga";
import { isUnavailable } from "../../db/db.ts";
import { KckError, PublicError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";

/** Options for {@link createErrorMask}. */
export interface ErrorMaskOptions {
  log: Logger;
  /**
   * Hide the causes of failed computes and augments (a primer's own error text, PostgreSQL's)
   * from clients: they get a coded message and an error id, the log gets the cause under the
   * same id. A {@link PublicError} is always shown.
   * @default false
   */
  maskErrors?: boolean;
}

/** Turns any error bound for a client into the one it may see. */
export type ErrorMask = (error: unknown, message: string, isDev?: boolean) => Error;

// Codes whose message may quote a cause KCK did not write (a compute's or a reducer's error).
const QUOTING: ReadonlySet<string> = new Set(["COMPUTE_FAILED", "AUGMENT_FAILED"]);

/** A short id that ties what a client sees to the log line that holds the cause. */
export const newErrorId = (): string => randomBytes(6).toString("hex");

/**
 * Whether a KCK error's message is safe for a client: a message KCK wrote itself, or one that
 * quotes only other such messages or a {@link PublicError}. A failed compute's message quotes
 * its cause, which may be anything (a password in a connection error, PostgreSQL's text).
 */
export function isPublicError(error: KckError): boolean {
  if (!QUOTING.has(error.code)) return true;
  for (let e: unknown = error; ; e = (e as KckError).cause) {
    if (e instanceof PublicError) return true;
    if (!(e instanceof KckError)) return false;
    if (e.cause === undefined) return true;
  }
}

const kckErrorOf = (error: unknown): KckError | undefined => {
  if (error instanceof KckError) return error;
  const original = (error as { originalError?: unknown } | null)?.originalError;
  return original instanceof KckError ? original : undefined;
};

/**
 * The gateway's error mask (yoga's `maskedErrors.maskError`, and graphql-ws errors). A
 * database outage becomes UNAVAILABLE; an unexpected error becomes "Unexpected error." with an
 * `errorId`; with `maskErrors`, so does the quoted cause of a failed compute or augment (its
 * code stays). Whatever is hidden is logged in full with its error id.
 */
export function createErrorMask(options: ErrorMaskOptions): ErrorMask {
  const { log } = options;
  return (error, message, isDev = false) => {
    // A database outage is expected to happen: say so plainly, and log it once as a warning.
    if (isUnavailable(error)) {
      log.warn({ err: error }, "database unavailable");
      return new KckError(
        "UNAVAILABLE",
        "The cache database cannot be reached right now; try again in a few seconds.",
      );
    }
    const kck = kckErrorOf(error);
    if (kck !== undefined) {
      if (!options.maskErrors || isPublicError(kck)) return error as Error;
      const errorId = newErrorId();
      log.error({ err: kck, errorId }, "failed (its cause is hidden from the client)");
      const what = kck.code === "AUGMENT_FAILED" ? "augment" : "compute";
      const located = error instanceof GraphQLError ? error : undefined;
      return new GraphQLError(
        `The ${what} failed on the server (error id ${errorId}); its cause is in the server's log under that id.`,
        {
          ...(located?.nodes ? { nodes: located.nodes } : {}),
          ...(located?.path ? { path: located.path } : {}),
          extensions: { ...kck.extensions, errorId },
        },
      );
    }
    const masked = yogaMaskError(error, message, isDev);
    if (masked === error) return masked;
    // Anything masked was unexpected: the client sees a generic message, the log the cause.
    const errorId = newErrorId();
    log.error(
      { err: (error as { originalError?: unknown }).originalError ?? error, errorId },
      "unexpected error",
    );
    if (!(masked instanceof GraphQLError)) return masked;
    return new GraphQLError(masked.message, {
      ...(masked.nodes ? { nodes: masked.nodes } : {}),
      ...(masked.path ? { path: masked.path } : {}),
      extensions: { ...masked.extensions, errorId },
    });
  };
}
