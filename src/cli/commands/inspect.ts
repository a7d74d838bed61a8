import type { Command } from "commander";
import { readGraph } from "../../ops/catalog.ts";
import { dependencyTree, renderTree } from "../../ops/graph-format.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { metaOf, ms, print, printJson } from "../output.ts";
import { type ConfigReader, withEngine } from "../session.ts";

const at = (date: Date | null) => (date === null ? "-" : date.toISOString());

/**
 * `kck inspect <key>`: a product's metadata, the tree of what it read (transitively) and the
 * products that read it, without computing anything. Exit 3 when the key was never stored.
 */
export function addInspect(program: Command, config: ConfigReader): void {
  program
    .command("inspect")
    .description("show a product's metadata and dependency tree, without computing it")
    .argument("<key>", "the product's key")
    .option("--json", "print JSON")
    .action(async (key: string, options: { json?: boolean }) => {
      await withEngine(config(), { setups: false }, async ({ engine, db }) => {
        const canonical = engine.parse(key).key;
        const product = await engine.inspect(canonical);
        if (product === undefined) {
          throw new CliError(
            EXIT.NOT_FOUND,
            `No product is stored under ${canonical}; \`kck get ${canonical}\` computes it.`,
          );
        }
        const graph = await readGraph(db, { key: canonical });
        const tree = dependencyTree(canonical, graph);
        const { dependents } = await engine.edges(canonical);
        if (options.json) {
          printJson({ ...metaOf(product), dependencies: tree.dependencies, dependents }, true);
          return;
        }
        const meta = metaOf(product);
        print(
          [
            `key            ${meta.key}`,
            `primer         ${meta.primer}`,
            `params         ${JSON.stringify(meta.params)}`,
            `state          ${meta.state}`,
            `version        ${meta.version}`,
            `computed at    ${at(meta.computedAt)}`,
            `fresh until    ${meta.freshUntil === null && meta.computedAt ? "forever" : at(meta.freshUntil)}`,
            `stale until    ${meta.staleUntil === null && meta.computedAt ? "forever" : at(meta.staleUntil)}`,
            `computes       ${meta.computeCount} (last ${ms(meta.lastComputeMs)})`,
            `errors         ${meta.errorCount}${meta.lastError ? ` (last at ${at(meta.lastErrorAt)}: ${meta.lastError})` : ""}`,
            "",
            "dependencies",
            ...renderTree(tree).map((line) => `  ${line}`),
            "",
            `dependents${dependents.length === 0 ? "     none" : ""}`,
            ...dependents.map((d) => `  ${d}`),
          ].join("\n"),
        );
      });
    });
}
