import type { Engine } from "../engine/engine.ts";
import {
  countProducts,
  listProducts,
  type PrimerCounts,
  type ProductSummary,
  readGraph,
} from "../ops/catalog.ts";
import { nodeState } from "../ops/graph-format.ts";

/** One primer as the dashboard shows it. */
export interface PrimerOverview {
  readonly name: string;
  readonly description: string | null;
  readonly params: { name: string; type: string }[];
  /** Milliseconds a value stays fresh; null: forever. */
  readonly freshMs: number | null;
  /** Milliseconds it may then be served stale; null: forever. */
  readonly staleMs: number | null;
  readonly counts: Omit<PrimerCounts, "primer">;
}

/** Everything the dashboard shows, as one JSON document. */
export interface Overview {
  readonly generatedAt: string;
  readonly primers: PrimerOverview[];
  readonly products: ProductSummary[];
  readonly recentComputes: ProductSummary[];
  readonly errors: ProductSummary[];
  readonly graph: {
    readonly nodes: { key: string; primer: string; state: string; version: number | null }[];
    readonly edges: { from: string; to: string }[];
    /** True when the graph had more edges than the dashboard draws. */
    readonly truncated: boolean;
  };
}

/** How much the overview holds. */
export interface OverviewOptions {
  /** Products listed. @default 200 */
  products?: number;
  /** Recent computes and recent errors listed. @default 20 */
  recent?: number;
  /** Dependency edges drawn. @default 400 */
  edges?: number;
}

const finite = (ms: number): number | null => (Number.isFinite(ms) ? ms : null);
const EMPTY = { products: 0, fresh: 0, stale: 0, expired: 0, missing: 0, failing: 0 };

/** Reads the dashboard's overview: primers, products, recent computes and errors, the graph. */
export async function readOverview(
  engine: Engine,
  options: OverviewOptions = {},
): Promise<Overview> {
  const db = engine.db;
  const edgeLimit = options.edges ?? 400;
  const [counts, products, recentComputes, errors, graph] = await Promise.all([
    countProducts(db),
    listProducts(db, { limit: options.products ?? 200 }),
    listProducts(db, { limit: options.recent ?? 20, order: "computed" }),
    listProducts(db, { limit: options.recent ?? 20, order: "failed" }),
    readGraph(db, { limit: edgeLimit + 1 }),
  ]);
  const byPrimer = new Map(counts.map(({ primer, ...rest }) => [primer, rest]));
  const edges = graph.edges.slice(0, edgeLimit);
  const drawn = new Set(edges.flatMap((e) => [e.dependent, e.dependency]));
  return {
    generatedAt: new Date().toISOString(),
    primers: [...engine.primers.values()]
      .map((primer) => ({
        name: primer.name,
        description: primer.description ?? null,
        params: primer.paramNames.map((name) => ({ name, type: primer.params[name].scalar })),
        freshMs: finite(primer.freshMs),
        staleMs: finite(primer.staleMs),
        counts: byPrimer.get(primer.name) ?? EMPTY,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    products,
    recentComputes,
    errors,
    graph: {
      nodes: graph.nodes
        .filter((key) => drawn.has(key))
        .map((key) => {
          const product = graph.products.get(key);
          return {
            key,
            primer: key.split("/")[0] ?? key,
            state: nodeState(product),
            version: product?.version ?? null,
          };
        }),
      edges: edges.map((e) => ({ from: e.dependent, to: e.dependency })),
      truncated: graph.edges.length > edgeLimit,
    },
  };
}
