import type { Queryable } from "../db/db.ts";
import { freshnessOf } from "../engine/product.ts";
import {
  allEdges,
  countProducts,
  edgesAround,
  listMetadata,
  metadataByKey,
  type PrimerCounts,
  type ProductMetadata,
} from "../sql/catalog.ts";
import type { Edge } from "../sql/dependencies.ts";
import { graphNodes, type ProductSummary } from "./graph-format.ts";

export { countProducts, type Edge, type PrimerCounts, type ProductSummary };

const summarise = (now: number) => (row: ProductMetadata) => ({
  ...row,
  state: freshnessOf(row, now),
});

/** Which products to list, and in what order. */
export interface ListOptions {
  /** Only this primer's products. */
  primer?: string | undefined;
  /** At most this many. @default 200 */
  limit?: number;
  /** `updated`: last touched first; `computed`: last computed first (never computed left out); `failed`: last failure first (only failing ones). @default "updated" */
  order?: "updated" | "computed" | "failed";
}

/** Lists stored products' metadata (never their values). */
export async function listProducts(
  q: Queryable,
  options: ListOptions = {},
): Promise<ProductSummary[]> {
  const rows = await listMetadata(
    q,
    options.primer ?? null,
    options.order ?? "updated",
    options.limit ?? 200,
  );
  return rows.map(summarise(Date.now()));
}

/** The metadata of the given products, by key; keys never stored are absent. */
export async function summariesByKey(
  q: Queryable,
  keys: readonly string[],
): Promise<Map<string, ProductSummary>> {
  if (keys.length === 0) return new Map();
  const rows = await metadataByKey(q, keys);
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
  return options.key !== undefined
    ? edgesAround(q, options.key, options.primer ?? null, limit)
    : allEdges(q, options.primer ?? null, limit);
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
