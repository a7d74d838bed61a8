import { getOperationAST, Kind } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { KckServerContext, RequestContext, StoredProduct } from "../../types.ts";
import { answerHeaders, etagOf } from "./cacheable-answer.ts";

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

/** What onExecuteDone decided: the products' headers are computed when the response is. */
type Pending =
  | { kind: "no-store" }
  | { kind: "revalidate" }
  | { kind: "fresh"; products: readonly StoredProduct[] };

function merge(before: Pending | undefined, next: Pending): Pending {
  if (before === undefined) return next;
  if (before.kind === "no-store" || next.kind === "no-store") return { kind: "no-store" };
  if (before.kind === "revalidate" || next.kind === "revalidate") return { kind: "revalidate" };
  return { kind: "fresh", products: [...before.products, ...next.products] };
}

/** Headers of the answer's framing or caching, which the plugin sets anew. */
const FRAMING: ReadonlySet<string> = new Set([
  "content-length",
  "transfer-encoding",
  "cache-control",
]);

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
 * The `Cache-Control` of an answer built only from primer fields, from the products it served,
 * at `now`: the one function both the yoga path and the response fast path call, so that an
 * answer's cache headers never depend on which path served it.
 */
export function cacheControlFor(
  products: readonly StoredProduct[],
  options: CachePolicy,
  now: number,
): string {
  const decision = productsDecision(products, options, now);
  if (decision.kind !== "fresh") return "no-cache";
  const swr = decision.staleWhileRevalidate;
  return `${options.scope ?? "public"}, max-age=${decision.maxAge}${swr > 0 ? `, stale-while-revalidate=${swr}` : ""}`;
}

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
  const decisions = new WeakMap<Request, Pending>();

  return {
    onExecute({ args }) {
      const context = args.contextValue;
      // Over WebSocket there is no HTTP request, and no HTTP cache to tell.
      const request = context.request as Request | undefined;
      if (request === undefined) return undefined;
      const operation = getOperationAST(args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          let decision: Pending = { kind: "no-store" };
          if (operation?.operation === "query" && "data" in result && !result.errors?.length) {
            const primersOnly = operation.selectionSet.selections.every(
              (s) =>
                s.kind === Kind.FIELD &&
                (primers.has(s.name.value) || s.name.value === "__typename"),
            );
            decision = primersOnly
              ? { kind: "fresh", products: context.served.products }
              : { kind: "revalidate" };
          }
          // A batch runs several operations for one request: its answer is as cacheable as the
          // least cacheable of them, and as fresh as every product they read together.
          decisions.set(request, merge(decisions.get(request), decision));
        },
      };
    },
    async onResponse({ request, response, setResponse, fetchAPI, serverContext }) {
      const decision = decisions.get(request);
      if (decision === undefined || decision.kind === "no-store" || response.status !== 200) {
        // Parse and validation errors never reach execution: nothing here may be cached.
        if (!response.headers.has("cache-control"))
          response.headers.set("cache-control", "no-store");
        return;
      }
      const body = await response.text();
      const etag = etagOf(body);
      // Copied one by one: yoga names its headers in mixed case, which a Headers copy can lose.
      const base: [string, string][] = [];
      response.headers.forEach((value, name) => {
        const lower = name.toLowerCase();
        // The body is whole now: its length is sent, not the stream's framing.
        if (!FRAMING.has(lower)) base.push([lower, value]);
      });
      base.push(["etag", etag]);
      const vary = base.find(([name]) => name === "vary");
      if (vary) vary[1] = `${vary[1]}, accept`;
      else base.push(["vary", "accept"]);
      // The fast path keeps what a pure query's answer is made of, to build it again later.
      const served = (serverContext as KckServerContext).kckServed;
      if (served && decision.kind === "fresh") served.answer = { headers: base, body, etag };
      const cacheControl =
        decision.kind === "revalidate"
          ? "no-cache"
          : cacheControlFor(decision.products, options, Date.now());
      const answer = answerHeaders(base, etag, cacheControl, request.headers.get("if-none-match"));
      const headers = new fetchAPI.Headers();
      for (const [name, value] of answer.headers) headers.append(name, value);
      setResponse(
        new fetchAPI.Response(answer.status === 304 ? null : body, {
          status: answer.status,
          headers,
        }),
      );
    },
  };
}
