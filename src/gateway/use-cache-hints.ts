import { createHash } from "node:crypto";
import { getOperationAST, Kind } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { StoredProduct } from "../engine/product.ts";
import type { RequestContext } from "../graphql/schema-types.ts";

/** Options for {@link useCacheHints}. */
export interface CacheHintsOptions {
  /** The names of the primer fields: a query reading only these may be cached. */
  primers: Iterable<string>;
  /**
   * The longest max-age (and stale-while-revalidate) sent, in seconds: products that stay
   * fresh forever are still revalidated this often.
   * @default 3600
   */
  maxAge?: number;
  /** `public` lets a shared cache (a CDN) keep responses; `private` only the client. @default "public" */
  scope?: "public" | "private";
}

/** What the response to one operation may tell caches. */
type Decision =
  | { kind: "no-store" }
  | { kind: "revalidate" }
  | { kind: "fresh"; maxAge: number; staleWhileRevalidate: number };

const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000));

/** How long every product read stays fresh, and how long it may then be served stale. */
function freshness(products: readonly StoredProduct[], cap: number, now: number): Decision {
  let maxAge = cap;
  let staleWhileRevalidate = cap;
  for (const product of products) {
    const freshUntil = product.freshUntil?.getTime() ?? Number.POSITIVE_INFINITY;
    const staleUntil = product.staleUntil?.getTime() ?? Number.POSITIVE_INFINITY;
    maxAge = Math.min(maxAge, seconds(freshUntil - now));
    staleWhileRevalidate = Math.min(
      staleWhileRevalidate,
      seconds(staleUntil - Math.max(now, freshUntil)),
    );
  }
  return { kind: "fresh", maxAge, staleWhileRevalidate };
}

const ifNoneMatch = (header: string | null): string[] =>
  (header ?? "").split(",").map((tag) => tag.trim().replace(/^W\//, ""));

/**
 * Adds HTTP caching hints to GraphQL responses, so that a CDN in front of KCK can serve
 * repeated queries. A query that reads only primer fields gets `Cache-Control: public,
 * max-age=<the least remaining freshness of the products it served>` (plus
 * `stale-while-revalidate` for their stale window) and an `ETag` (a hash of the body); any
 * other query gets `no-cache` and an ETag, so caches must revalidate; a request whose
 * `If-None-Match` holds the current ETag gets `304 Not Modified`. Mutations, subscriptions
 * and responses with errors get `no-store`.
 */
export function useCacheHints(options: CacheHintsOptions): Plugin<RequestContext> {
  const primers = new Set(options.primers);
  const cap = options.maxAge ?? 3600;
  const scope = options.scope ?? "public";
  const decisions = new WeakMap<Request, Decision>();

  return {
    onExecute({ args }) {
      const context = args.contextValue;
      const operation = getOperationAST(args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          let decision: Decision = { kind: "no-store" };
          if (operation?.operation === "query" && "data" in result && !result.errors?.length) {
            const primersOnly = operation.selectionSet.selections.every(
              (s) =>
                s.kind === Kind.FIELD &&
                (primers.has(s.name.value) || s.name.value === "__typename"),
            );
            decision = primersOnly
              ? freshness(context.served.products, cap, Date.now())
              : { kind: "revalidate" };
          }
          decisions.set(context.request, decision);
        },
      };
    },
    async onResponse({ request, response, setResponse, fetchAPI }) {
      const decision = decisions.get(request);
      if (decision === undefined || decision.kind === "no-store" || response.status !== 200) {
        // Parse and validation errors never reach execution: nothing here may be cached.
        if (!response.headers.has("cache-control"))
          response.headers.set("cache-control", "no-store");
        return;
      }
      const body = await response.text();
      const etag = `"${createHash("sha1").update(body).digest("base64url")}"`;
      // Copied one by one: yoga names its headers in mixed case, which a Headers copy can lose.
      const headers = new fetchAPI.Headers();
      response.headers.forEach((value, name) => {
        headers.set(name.toLowerCase(), value);
      });
      headers.set("etag", etag);
      headers.append("vary", "accept");
      headers.set(
        "cache-control",
        decision.kind === "revalidate"
          ? "no-cache"
          : `${scope}, max-age=${decision.maxAge}${decision.staleWhileRevalidate > 0 ? `, stale-while-revalidate=${decision.staleWhileRevalidate}` : ""}`,
      );
      if (ifNoneMatch(request.headers.get("if-none-match")).includes(etag)) {
        headers.delete("content-type");
        headers.delete("content-length");
        setResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      headers.delete("content-length");
      setResponse(new fetchAPI.Response(body, { status: response.status, headers }));
    },
  };
}
