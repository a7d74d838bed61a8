import type { Command } from "commander";
import { printJson } from "../output.ts";
import { type ConfigReader, withEngine } from "../session.ts";

/** `kck get <key>`: prints a product's value as JSON, computing it if needed. */
export function addGet(program: Command, config: ConfigReader): void {
  program
    .command("get")
    .description("print a product's value as JSON, computing it if it is missing or expired")
    .argument("<key>", 'the product\'s key, such as "titleList/42"')
    .option("--pretty", "indent the JSON")
    .action(async (key: string, options: { pretty?: boolean }) => {
      await withEngine(config(), { setups: "new" }, async ({ engine }) => {
        printJson(await engine.get(key), options.pretty);
      });
    });
}
