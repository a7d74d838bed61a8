import { type Command, Option } from "commander";
import { readGraph } from "../../ops/catalog.ts";
import { toDot, toMermaid } from "../../ops/graph-format.ts";
import { positiveInt } from "../args.ts";
import { print, printJson } from "../output.ts";
import { type ConfigReader, withEngine } from "../session.ts";

/** `kck graph`: prints the dependency graph as Graphviz DOT, Mermaid or JSON. */
export function addGraph(program: Command, config: ConfigReader): void {
  program
    .command("graph")
    .description("print the dependency graph (an arrow from each product to what it read)")
    .addOption(
      new Option("-f, --format <format>", "output format")
        .choices(["dot", "mermaid", "json"])
        .default("dot"),
    )
    .option("-k, --key <key>", "only what this product read and what read it, transitively")
    .option("-p, --primer <name>", "only edges with a product of this primer at one end")
    .option("--limit <n>", "at most this many edges", positiveInt, 5000)
    .action(async (options: { format: string; key?: string; primer?: string; limit: number }) => {
      await withEngine(config(), { setups: false }, async ({ engine, db }) => {
        const key = options.key === undefined ? undefined : engine.parse(options.key).key;
        const graph = await readGraph(db, {
          key,
          primer: options.primer,
          limit: options.limit,
        });
        if (options.format === "json") {
          printJson({
            nodes: graph.nodes.map((k) => ({
              key: k,
              state: graph.products.get(k)?.state ?? "MISSING",
            })),
            edges: graph.edges.map((e) => ({ from: e.dependent, to: e.dependency })),
          });
        } else print(options.format === "mermaid" ? toMermaid(graph) : toDot(graph));
      });
    });
}
