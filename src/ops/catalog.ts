import type { Queryable } from "../db/db.ts";
import { type Freshness, freshnessOf, type StoredProduct } from "../engine/product.ts";
import { graphNodes } from "./graph-format.ts";

/** What an operator sees of a product: its metadata and freshness, never its value. */
export interface ProductSummary
  extends Pick<
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
  > {
  readonly state: Freshness;
}

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

/** One dependency edge: `dependent` read `dependency` when it was last computed. */
export interface Edge {
  readonly dependent: string;
  readonly dependency: string;
}

const SUMMARY = `key, primer, version, computed_at as "computedAt", fresh_until as "freshUntil",
  stale_until as "staleUntil", compute_count as "computeCount", last_compute_ms as "lastComputeMs",
  last_error as "lastError", last_error_at as "lastErrorAt", error_count as "errorCount"`;

type Row = Omit<ProductSummary, "state">;
const summarise = (now: number) => (row: Row) => ({ ...row, state: freshnessOf(row, now) });

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

/** Which products to list, and in what order. */
export interface ListOptions {
  /** Only this primer's products. */
  primer?: string | undefined;
  /** At most this many. @default 200 */
  limit?: number;
  /** `updated`: last touched first; `computed`: last computed first (never computed left out); `failed`: last failure first (only failing ones). @default "updated" */
  order?: "updated" | "computed" | "failed";
}

const ORDER = {
  updated: "true order by updated_at desc, key",
  computed: "computed_at is not null order by computed_at desc, key",
  failed: "last_error is not null order by last_error_at desc, key",
} as const;

/** Lists stored products' metadata (never their values). */
export async function listProducts(
  q: Queryable,
  options: ListOptions = {},
): Promise<ProductSummary[]> {
  const { rows } = await q.query<Row>(
    `select ${SUMMARY} from kck.products
     where ($1::text is null or primer = $1) and ${ORDER[options.order ?? "updated"]} limit $2`,
    [options.primer ?? null, options.limit ?? 200],
  );
  return rows.map(summarise(Date.now()));
}

/** The metadata of the given products, by key; keys never stored are absent. */
export async function summariesByKey(
  q: Queryable,
  keys: readonly string[],
): Promise<Map<string, ProductSummary>> {
  if (keys.length === 0) return new Map();
  const { rows } = await q.query<Row>(`select ${SUMMARY} from kck.products where key = any($1)`, [
    [...keys],
  ]);
  const now = Date.now();
  return new Map(rows.map((row) => [row.key, summarise(now)(row)]));
}

/** Which edges of the dependency graph to read. */
export interface EdgeOptions {
  /** Only edges reachable from this key, both ways: what it read, transitively, and what read it. */
  key?: string | undefined;
  /** Only edges with a product of this primer at one end. */
  primer?: string | undefined;
  /** At most this many edges. @default 5000 */
  limit?: number;
}

/** Reads dependency edges, in a stable order. */
export async function readGraphEdges(q: Queryable, options: EdgeOptions = {}): Promise<Edge[]> {
  const limit = options.limit ?? 5000;
  if (options.key !== undefined) {
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
      [options.key, options.primer ?? null, limit],
    );
    return rows;
  }
  const { rows } = await q.query<Edge>(
    `select dependent, dependency from kck.dependencies
     where $1::text is null or split_part(dependent, '/', 1) = $1 or split_part(dependency, '/', 1) = $1
     order by dependent, dependency limit $2`,
    [options.primer ?? null, limit],
  );
  return rows;
}

/** Reads a dependency graph and the metadata of its products: two statements. */
export async function readGraph(
  q: Queryable,
  options: EdgeOptions = {},
): Promise<{ nodes: string[]; edges: Edge[]; products: Map<string, ProductSummary> }> {
  const edges = await readGraphEdges(q, options);
  const nodes = graphNodes(edges, options.key === undefined ? [] : [options.key]);
  return { nodes, edges, products: await summariesByKey(q, nodes) };
}
