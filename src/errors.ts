import { GraphQLError } from "graphql";

/**
 * Codes carried by every error KCK raises on purpose. Clients read them from
 * `extensions.code`; anything without one of these codes is masked by the gateway.
 */
export type KckErrorCode =
  | "BAD_KEY"
  | "BAD_PARAM"
  | "UNKNOWN_PRIMER"
  | "COMPUTE_FAILED"
  | "AUGMENT_FAILED"
  | "NOT_AUGMENTABLE"
  | "DEPENDENCY_CYCLE"
  | "CONFLICT"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "TIMEOUT"
  | "UNAVAILABLE"
  | "BAD_CONFIG"
  | "LIMIT_EXCEEDED"
  | "NOT_FOUND"
  | "RATE_LIMITED";

const STATUS: Record<KckErrorCode, number> = {
  BAD_KEY: 400,
  BAD_PARAM: 400,
  UNKNOWN_PRIMER: 400,
  COMPUTE_FAILED: 200,
  AUGMENT_FAILED: 200,
  NOT_AUGMENTABLE: 400,
  DEPENDENCY_CYCLE: 200,
  CONFLICT: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TIMEOUT: 200,
  UNAVAILABLE: 503,
  BAD_CONFIG: 500,
  LIMIT_EXCEEDED: 429,
  NOT_FOUND: 200,
  // Per field: a request refused whole is answered 429
  // (src/gateway/plugins/use-rate-limit-status.ts).
  RATE_LIMITED: 200,
};

/**
 * An error KCK raises on purpose: a whole-sentence message safe to show a client, a code, and
 * an HTTP status. It is a GraphQLError so that yoga passes it through unmasked.
 */
export class KckError extends GraphQLError {
  readonly code: KckErrorCode;

  constructor(code: KckErrorCode, message: string, options: { cause?: unknown } = {}) {
    // The cause is kept as `cause`, not as GraphQL's originalError: yoga masks any error whose
    // originalError is not itself a GraphQLError, and this message is meant for the client.
    super(message, { extensions: { code, http: { status: STATUS[code] } } });
    this.name = "KckError";
    this.code = code;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** The message of anything thrown, for error texts that name a cause. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * An error a primer (a compute or a reducer) throws for the client to read: its message is
 * shown as it is, even where every other cause of a failed compute is hidden (in production,
 * see `maskErrors`). Its code is COMPUTE_FAILED unless given.
 */
export class PublicError extends KckError {
  constructor(message: string, options: { code?: KckErrorCode; cause?: unknown } = {}) {
    super(options.code ?? "COMPUTE_FAILED", message, options);
    this.name = "PublicError";
  }
}

/**
 * The error for a product that reads itself, directly or through others: `keys` in the order
 * the cycle runs, the first one again at the end; `consequence` says what KCK did about it.
 */
export function cycleError(keys: readonly string[], consequence?: string): KckError {
  return new KckError(
    "DEPENDENCY_CYCLE",
    `Dependency cycle: ${keys.join(" → ")}. A product cannot read itself, directly or through others${consequence === undefined ? "" : `; ${consequence}`}.`,
  );
}
