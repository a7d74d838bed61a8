import type { Command } from "commander";
import { messageOf } from "../../errors.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { metaOf, ms, print, printJson } from "../output.ts";
import { type ConfigReader, withEngine } from "../session.ts";

/**
 * `kck refresh <keys...>`: recomputes products now, whatever their freshness. Every key is
 * checked before any work starts; a failure does not stop the others, but ends with exit 1.
 */
export function addRefresh(program: Command, config: ConfigReader): void {
  program
    .command("refresh")
    .description("recompute products now, whatever their freshness")
    .argument("<keys...>", "the products' keys")
    .option("--json", "print one JSON line per product")
    .action(async (keys: string[], options: { json?: boolean }) => {
      await withEngine(config(), { setups: true }, async ({ engine }) => {
        const canonical = keys.map((key) => engine.parse(key).key);
        const results = await Promise.allSettled(canonical.map((key) => engine.refresh(key)));
        let failed = 0;
        results.forEach((result, i) => {
          const key = canonical[i] as string;
          if (result.status === "rejected") {
            failed++;
            if (options.json) printJson({ key, error: messageOf(result.reason) });
            else print(`failed     ${key}: ${messageOf(result.reason)}`);
          } else if (options.json) printJson(metaOf(result.value));
          else
            print(
              `refreshed  ${key}: version ${result.value.version}, ${ms(result.value.lastComputeMs)}`,
            );
        });
        if (failed > 0)
          throw new CliError(EXIT.FAILURE, `${failed} of ${keys.length} refreshes failed.`);
      });
    });
}

/**
 * `kck invalidate <keys...>`: marks products expired so that their next read recomputes them.
 * Ends with exit 3 when a key was never stored (the others are still invalidated).
 */
export function addInvalidate(program: Command, config: ConfigReader): void {
  program
    .command("invalidate")
    .description("mark products expired, so that their next read recomputes them")
    .argument("<keys...>", "the products' keys")
    .option("--json", "print one JSON line per product")
    .action(async (keys: string[], options: { json?: boolean }) => {
      await withEngine(config(), { setups: false }, async ({ engine }) => {
        const canonical = keys.map((key) => engine.parse(key).key);
        const missing: string[] = [];
        for (const key of canonical) {
          const product = await engine.invalidate(key);
          if (product === undefined) missing.push(key);
          if (options.json) printJson(product ? metaOf(product) : { key, stored: false });
          else print(product ? `invalidated ${key}` : `not stored  ${key}`);
        }
        if (missing.length > 0)
          throw new CliError(EXIT.NOT_FOUND, `No product is stored under ${missing.join(", ")}.`);
      });
    });
}
