import type { Command } from "commander";
import { print, printJson } from "../output.ts";
import { type ConfigReader, withDatabase } from "../session.ts";

/**
 * `kck migrate`: applies KCK's pending migrations, then the primer modules' setups (source
 * tables, seed rows: idempotent), and prints the migrations it applied.
 */
export function addMigrate(program: Command, config: ConfigReader): void {
  program
    .command("migrate")
    .description("apply KCK's pending database migrations and the primer modules' setups")
    .option("--json", "print the applied migrations as a JSON array")
    .action(async (options: { json?: boolean }) => {
      const { loadPrimers, runSetups } = await import("../../load-primers.ts");
      const { migrate } = await import("../../db/migrate.ts");
      const { setups } = await loadPrimers(config().primersDir);
      await withDatabase(config(), async ({ db }) => {
        const applied = await migrate(db);
        await runSetups(db, setups);
        if (options.json) printJson(applied);
        else if (applied.length === 0) print("The database is up to date.");
        else print(applied.map((name) => `applied ${name}`).join("\n"));
      });
    });
}
