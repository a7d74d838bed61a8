import type { IncomingMessage, ServerResponse } from "node:http";
import type { OperationTypeNode } from "graphql";
import { KckError } from "../../errors.ts";
import { type AuthOptions, authorizeRequest, bearerToken } from "../plugins/use-authorization.ts";

/** Says whether a request may read an operator's page; when not, has answered it already. */
export type OpsAccess = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * Guards what an operator reads over HTTP (the dashboard and its JSON, `/metrics`) as queries
 * are guarded: open while reads are, otherwise only with the read or the admin token
 * (`Authorization: Bearer …`), or what a custom `authorize` allows for a query. A refused
 * request gets 401 or 403 with the coded error as JSON.
 */
export function opsAccess(auth: AuthOptions): OpsAccess {
  return async (req, res) => {
    try {
      await authorizeRequest(auth, {
        operation: "query" as OperationTypeNode,
        token: bearerToken(req.headers.authorization),
      });
      return true;
    } catch (error) {
      if (!(error instanceof KckError)) throw error;
      const status = error.code === "UNAUTHORIZED" ? 401 : 403;
      res.writeHead(status, {
        "content-type": "application/json",
        "cache-control": "no-store",
        ...(status === 401 ? { "www-authenticate": 'Bearer realm="kck"' } : {}),
      });
      res.end(
        JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code } }] }),
      );
      return false;
    }
  };
}
