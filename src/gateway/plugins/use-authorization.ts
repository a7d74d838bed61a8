import { timingSafeEqual } from "node:crypto";
import { getOperationAST, type OperationTypeNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import { KckError } from "../../errors.ts";

/** What an authorize function is asked about. */
export interface AuthRequest {
  /** The kind of operation: query, mutation or subscription. */
  readonly operation: OperationTypeNode;
  /** The bearer token the client sent (Authorization header, or connectionParams over WebSocket). */
  readonly token: string | undefined;
}

/**
 * Decides whether a request may run: true allows it, false refuses it (FORBIDDEN), or throw a
 * KckError of your own. Replaces the token rules below when given.
 */
export type Authorize = (request: AuthRequest) => boolean | Promise<boolean>;

/** Who may do what. */
export interface AuthOptions {
  /** The token mutations need (KCK_ADMIN_TOKEN); it also grants reads. */
  adminToken?: string | undefined;
  /** When set, queries and subscriptions need this token or the admin one (KCK_READ_TOKEN). */
  readToken?: string | undefined;
  /** In production (NODE_ENV=production) mutations are refused when no admin token is set. */
  production?: boolean;
  /** A pluggable decision that replaces the token rules. */
  authorize?: Authorize | undefined;
}

const same = (given: string | undefined, expected: string): boolean => {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Reads a bearer token from an Authorization header value. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== "string") return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Whether a token is the admin token (none is when no admin token is set). */
export function isAdminToken(options: AuthOptions, token: string | undefined): boolean {
  return options.adminToken !== undefined && same(token, options.adminToken);
}

/** Throws the KckError that refuses a request, or returns when it may run. */
export async function authorizeRequest(options: AuthOptions, request: AuthRequest): Promise<void> {
  if (options.authorize) {
    if (await options.authorize(request)) return;
    throw new KckError(
      "FORBIDDEN",
      `This ${request.operation} is not allowed for the credentials given.`,
    );
  }
  const { adminToken, readToken } = options;
  if (request.operation === "mutation") {
    if (adminToken === undefined) {
      if (!options.production) return;
      throw new KckError(
        "FORBIDDEN",
        "Mutations are disabled: this server runs with NODE_ENV=production and no KCK_ADMIN_TOKEN is configured.",
      );
    }
    if (request.token === undefined) {
      throw new KckError(
        "UNAUTHORIZED",
        "Mutations need a token: send `Authorization: Bearer <KCK_ADMIN_TOKEN>`.",
      );
    }
    if (!same(request.token, adminToken))
      throw new KckError("FORBIDDEN", "The token given does not allow mutations.");
    return;
  }
  if (readToken === undefined) return;
  if (request.token === undefined) {
    throw new KckError(
      "UNAUTHORIZED",
      `This server is private: ${request.operation}s need \`Authorization: Bearer <token>\`.`,
    );
  }
  if (
    !same(request.token, readToken) &&
    !(adminToken !== undefined && same(request.token, adminToken))
  ) {
    throw new KckError("FORBIDDEN", `The token given does not allow ${request.operation}s.`);
  }
}

/**
 * Checks every operation before it runs (queries, mutations, and subscriptions alike); a refused
 * request gets a coded error and changes nothing.
 */
export function useAuthorization(options: AuthOptions): Plugin<{ token?: string | undefined }> {
  const check = async (args: {
    document: unknown;
    operationName?: string | null | undefined;
    contextValue: { token?: string | undefined };
  }) => {
    const operation = getOperationAST(args.document as never, args.operationName);
    if (!operation) return undefined;
    try {
      await authorizeRequest(options, {
        operation: operation.operation,
        token: args.contextValue.token,
      });
      return undefined;
    } catch (error) {
      if (error instanceof KckError) return error;
      throw error;
    }
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refused = await check(args);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const refused = await check(args);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
  };
}
