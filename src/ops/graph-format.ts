import type { Freshness } from "../engine/product.ts";
import type { ProductMetadata } from "../sql/catalog.ts";
import type { Edge } from "../sql/dependencies.ts";

/** What an operator sees of a product: its metadata and freshness, never its value. */
export interface ProductSummary extends ProductMetadata {
  readonly state: Freshness;
}

/** A dependency graph ready to draw: its products and who read whom. */
export interface Graph {
  /** Every key at either end of an edge (and the root, when one was asked for), sorted. */
  readonly nodes: readonly string[];
  readonly edges: readonly Edge[];
  /** What the cache holds for each node; absent for keys never stored. */
  readonly products: ReadonlyMap<string, ProductSummary>;
}

/** Collects a graph's nodes from its edges (and extra keys such as a root). */
export function graphNodes(edges: readonly Edge[], extra: readonly string[] = []): string[] {
  const keys = new Set(extra);
  for (const edge of edges) {
    keys.add(edge.dependent);
    keys.add(edge.dependency);
  }
  return [...keys].sort();
}

/** A node's state for drawing: its freshness, or FAILING when its last compute failed. */
export function nodeState(product: ProductSummary | undefined): Freshness | "FAILING" {
  if (product?.lastError) return "FAILING";
  return product?.state ?? "MISSING";
}

const COLOURS: Record<Freshness | "FAILING", string> = {
  FRESH: "#d3f9d8",
  STALE: "#fff3bf",
  EXPIRED: "#e9ecef",
  MISSING: "#ffffff",
  FAILING: "#ffc9c9",
};

const dotString = (text: string) => `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

/**
 * Renders a graph as Graphviz DOT: an arrow from each product to each product it read,
 * nodes filled by freshness (green fresh, yellow stale, grey expired, red failing).
 */
export function toDot(graph: Graph): string {
  const lines = [
    "digraph kck {",
    "  rankdir=LR;",
    '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
  ];
  for (const key of graph.nodes) {
    const state = nodeState(graph.products.get(key));
    lines.push(`  ${dotString(key)} [fillcolor="${COLOURS[state]}", tooltip="${state}"];`);
  }
  for (const { dependent, dependency } of graph.edges)
    lines.push(`  ${dotString(dependent)} -> ${dotString(dependency)};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

// Mermaid labels are quoted; a quote inside one is written as an entity.
const mermaidLabel = (text: string) => `"${text.replaceAll('"', "#quot;")}"`;

/** Renders a graph as a Mermaid flowchart, with one class per freshness state. */
export function toMermaid(graph: Graph): string {
  const ids = new Map(graph.nodes.map((key, i) => [key, `n${i}`]));
  const lines = ["flowchart LR"];
  const byState = new Map<string, string[]>();
  for (const key of graph.nodes) {
    const id = ids.get(key) as string;
    lines.push(`  ${id}[${mermaidLabel(key)}]`);
    const state = nodeState(graph.products.get(key)).toLowerCase();
    byState.set(state, [...(byState.get(state) ?? []), id]);
  }
  for (const { dependent, dependency } of graph.edges)
    lines.push(`  ${ids.get(dependent)} --> ${ids.get(dependency)}`);
  for (const [state, members] of byState) {
    lines.push(`  classDef ${state} fill:${COLOURS[state.toUpperCase() as Freshness]}`);
    lines.push(`  class ${members.join(",")} ${state}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One product in a dependency tree, with what it read. */
export interface TreeNode {
  readonly key: string;
  readonly state: Freshness | "FAILING";
  readonly version: number | null;
  readonly dependencies: TreeNode[];
  /** Set when this key already appears above it on the path: a cycle, not expanded again. */
  readonly cycle?: true;
}

/** Builds the tree of what `root` read, transitively, from the graph's edges. */
export function dependencyTree(root: string, graph: Graph): TreeNode {
  const children = new Map<string, string[]>();
  for (const { dependent, dependency } of graph.edges)
    children.set(dependent, [...(children.get(dependent) ?? []), dependency]);
  const build = (key: string, path: readonly string[]): TreeNode => {
    const product = graph.products.get(key);
    const base = { key, state: nodeState(product), version: product?.version ?? null };
    if (path.includes(key)) return { ...base, dependencies: [], cycle: true };
    const next = [...path, key];
    return {
      ...base,
      dependencies: (children.get(key) ?? []).map((child) => build(child, next)),
    };
  };
  return build(root, []);
}

/** Draws a tree as indented text lines (`├─`, `└─`), each with its state and version. */
export function renderTree(node: TreeNode, prefix = "", last = true, top = true): string[] {
  const label = `${node.key}  ${node.state}${node.version === null ? "" : ` v${node.version}`}${node.cycle ? "  (cycle)" : ""}`;
  const lines = [top ? label : `${prefix}${last ? "└─ " : "├─ "}${label}`];
  const childPrefix = top ? "" : `${prefix}${last ? "   " : "│  "}`;
  node.dependencies.forEach((child, i) => {
    lines.push(...renderTree(child, childPrefix, i === node.dependencies.length - 1, false));
  });
  return lines;
}
