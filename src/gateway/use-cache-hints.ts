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
  /**
   * The longest max-age (and stale-while-revalidate) for products that change by push (see
   * `pushed`), in seconds; 0 sends `no-cache` (with the ETag, so a cache revalidates cheaply).
   * @default 0
   */
  pushMaxAge?: number;
  /** Whether a primer's products change by push (augments, source triggers, dependencies). @default none do */
  pushed?: (primer: string) => boolean;
}

/** What the response to one operation may tell caches. */
export type CacheDecision =
  | { kind: "no-store" }
  | { kind: "revalidate" }
  | { kind: "fresh"; maxAge: number; staleWhileRevalidate: number };

/** The part of {@link CacheHintsOptions} that decides the headers of a product read. */
export type CachePolicy = Pick<CacheHintsOptions, "maxAge" | "scope" | "pushMaxAge" | "pushed">;

const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000));

/**
 * How long a response built from these products may be cached: the least remaining freshness
 * of the products (capped at `maxAge`, and at `pushMaxAge` for products that change by push,
 * whose freshness says nothing of when the next push comes), and the least stale window.
 */
export function productsDecision(
  products: readonly StoredProduct[],
  policy: CachePolicy,
  now: number,
): CacheDecision {
  const cap = policy.maxAge ?? 3600;
  const pushCap = policy.pushMaxAge ?? 0;
  let maxAge = cap;
  let staleWhileRevalidate = cap;
  for (const product of products) {
    const freshUntil = product.freshUntil?.getTime() ?? Number.POSITIVE_INFINITY;
    const staleUntil = product.staleUntil?.getTime() ?? Number.POSITIVE_INFINITY;
    const pushed = policy.pushed?.(product.primer) === true;
    maxAge = Math.min(maxAge, seconds(freshUntil - now), pushed ? pushCap : cap);
    staleWhileRevalidate = Math.min(
      staleWhileRevalidate,
      seconds(staleUntil - Math.max(now, freshUntil)),
      pushed ? pushCap : cap,
    );
  }
  if (maxAge === 0 && products.some((p) => policy.pushed?.(p.primer) === true))
    return { kind: "revalidate" };
  return { kind: "fresh", maxAge, staleWhileRevalidate };
}

/**
 * The `Cache-Control` value of a decision (undefined: the response keeps its own). The fast
 * path calls this with {@link productsDecision} to answer exactly as this plugin does.
 */
export function cacheControlOf(decision: CacheDecision, scope: "public" | "private"): string {
  if (decision.kind === "no-store") return "no-store";
  if (decision.kind === "revalidate") return "no-cache";
  return `${scope}, max-age=${decision.maxAge}${decision.staleWhileRevalidate > 0 ? `, stale-while-revalidate=${decision.staleWhileRevalidate}` : ""}`;
}

/**
 * The `Cache-Control` of a pure product read (a query of primer fields only, without errors)
 * served from these products at `now`: what the fast path should send when it replays a stored
 * answer, so that its max-age never outlives the products (nor a push) either.
 */
export function productsCacheControl(
  products: readonly StoredProduct[],
  policy: CachePolicy,
  now: number = Date.now(),
): string {
  return cacheControlOf(productsDecision(products, policy, now), policy.scope ?? "public");
}

const ifNoneMatch = (header: string | null): string[] =>
  (header ?? "").split(",").map((tag) => tag.trim().replace(/^W\//, ""));

/**
 * Adds HTTP caching hints to GraphQL responses, so that a CDN in front of KCK can serve
 * repeated queries. A query that reads only primer fields gets `Cache-Control: public,
 * max-age=<the least remaining freshness of the products it served>` (plus
 * `stale-while-revalidate` for their stale window; at most `pushMaxAge`, or `no-cache`, when a
 * product changes by push) and an `ETag` (a hash of the body); any
 * other query gets `no-cache` and an ETag, so caches must revalidate; a request whose
 * `If-None-Match` holds the current ETag gets `304 Not Modified`. Mutations, subscriptions
 * and responses with errors get `no-store`.
 */
export function useCacheHints(options: CacheHintsOptions): Plugin<RequestContext> {
  const primers = new Set(options.primers);
  const scope = options.scope ?? "public";
  const decisions = new WeakMap<Request, CacheDecision>();

  return {
    onExecute({ args }) {
      const context = args.contextValue;
      // Over WebSocket there is no HTTP request, and no HTTP cache to tell.
      const request = context.request as Request | undefined;
      if (request === undefined) return undefined;
      const operation = getOperationAST(args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          let decision: CacheDecision = { kind: "no-store" };
          if (operation?.operation === "query" && "data" in result && !result.errors?.length) {
            const primersOnly = operation.selectionSet.selections.every(
              (s) =>
                s.kind === Kind.FIELD &&
                (primers.has(s.name.value) || s.name.value === "__typename"),
            );
            decision = primersOnly
              ? productsDecision(context.served.products, options, Date.now())
              : { kind: "revalidate" };
          }
          decisions.set(request, decision);
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
      headers.set("cache-control", cacheControlOf(decision, scope));
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
