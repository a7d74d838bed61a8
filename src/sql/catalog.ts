import type { Queryable } from "../db/db.ts";
import type { Edge } from "./dependencies.ts";
import type { StoredProduct } from "./products.ts";

// What operators read (the CLI's list, graph and inspect, the dashboard): products' metadata,
// never their values, and the dependency graph, in cycle-safe recursive CTEs.

/** A product's metadata as the catalog reads it (its freshness is derived by the reader). */
export type ProductMetadata = Pick<
  StoredProduct,
  | "key"
  | "primer"
  | "version"
  | "computedAt"
  | "freshUntil"
  | "staleUntil"
  | "computeCount"
  | "lastComputeMs"
  | "lastError"
  | "lastErrorAt"
  | "errorCount"
>;

/** How many products of one primer the cache holds, by state. */
export interface PrimerCounts {
  readonly primer: string;
  readonly products: number;
  readonly fresh: number;
  readonly stale: number;
  readonly expired: number;
  readonly missing: number;
  /** Products whose last compute failed. */
  readonly failing: number;
}

const METADATA = `key, primer, version, computed_at as "computedAt", fresh_until as "freshUntil",
  stale_until as "staleUntil", compute_count as "computeCount", last_compute_ms as "lastComputeMs",
  last_error as "lastError", last_error_at as "lastErrorAt", error_count as "errorCount"`;

/** Counts each primer's products by state, in one statement. */
export async function countProducts(q: Queryable): Promise<PrimerCounts[]> {
  const { rows } = await q.query<PrimerCounts>(
    `select primer, count(*)::int as products,
       count(*) filter (where computed_at is not null and (fresh_until is null or fresh_until > now()))::int as fresh,
       count(*) filter (where computed_at is not null and fresh_until <= now()
         and (stale_until is null or stale_until > now()))::int as stale,
       count(*) filter (where computed_at is not null and stale_until <= now())::int as expired,
       count(*) filter (where computed_at is null)::int as missing,
       count(*) filter (where last_error is not null)::int as failing
     from kck.products group by primer order by primer`,
  );
  return rows;
}

/** The orders {@link listMetadata} knows. */
export type ListOrder = "updated" | "computed" | "failed";

const ORDER: Record<ListOrder, string> = {
  updated: "true order by updated_at desc, key",
  computed: "computed_at is not null order by computed_at desc, key",
  failed: "last_error is not null order by last_error_at desc, key",
};

/**
 * Lists stored products' metadata: `updated`, last touched first; `computed`, last computed
 * first (never computed left out); `failed`, last failure first (only failing ones).
 */
export async function listMetadata(
  q: Queryable,
  primer: string | null,
  order: ListOrder,
  limit: number,
): Promise<ProductMetadata[]> {
  const { rows } = await q.query<ProductMetadata>(
    `select ${METADATA} from kck.products
     where ($1::text is null or primer = $1) and ${ORDER[order]} limit $2`,
    [primer, limit],
  );
  return rows;
}

/** The metadata of the given products; keys never stored are absent. */
export async function metadataByKey(
  q: Queryable,
  keys: readonly string[],
): Promise<ProductMetadata[]> {
  const { rows } = await q.query<ProductMetadata>(
    `select ${METADATA} from kck.products where key = any($1)`,
    [[...keys]],
  );
  return rows;
}

/**
 * The edges reachable from `key` both ways (what it read, transitively, and what read it),
 * only those with a product of `primer` at one end when given, in a stable order.
 */
export async function edgesAround(
  q: Queryable,
  key: string,
  primer: string | null,
  limit: number,
): Promise<Edge[]> {
  // `union` (not `union all`) drops edges already found, so a cycle cannot loop forever.
  const { rows } = await q.query<Edge>(
    `with recursive down(dependent, dependency) as (
       select dependent, dependency from kck.dependencies where dependent = $1
       union
       select d.dependent, d.dependency from kck.dependencies d join down on d.dependent = down.dependency
     ), up(dependent, dependency) as (
       select dependent, dependency from kck.dependencies where dependency = $1
       union
       select d.dependent, d.dependency from kck.dependencies d join up on d.dependency = up.dependent
     )
     select * from (select * from down union select * from up) as edges
     where $2::text is null or split_part(dependent, '/', 1) = $2 or split_part(dependency, '/', 1) = $2
     order by dependent, dependency limit $3`,
    [key, primer, limit],
  );
  return rows;
}

/** Every edge, or those with a product of `primer` at one end, in a stable order. */
export async function allEdges(
  q: Queryable,
  primer: string | null,
  limit: number,
): Promise<Edge[]> {
  const { rows } = await q.query<Edge>(
    `select dependent, dependency from kck.dependencies
     where $1::text is null or split_part(dependent, '/', 1) = $1 or split_part(dependency, '/', 1) = $1
     order by dependent, dependency limit $2`,
    [primer, limit],
  );
  return rows;
}
