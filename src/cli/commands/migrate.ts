import type { Command } from "commander";
import { migrate } from "../../db/migrate.ts";
import { print, printJson } from "../output.ts";
import { type ConfigReader, withDatabase } from "../session.ts";

/** `kck migrate`: applies KCK's pending migrations and prints what it applied. */
export function addMigrate(program: Command, config: ConfigReader): void {
  program
    .command("migrate")
    .description("apply KCK's pending database migrations")
    .option("--json", "print the applied migrations as a JSON array")
    .action(async (options: { json?: boolean }) => {
      await withDatabase(config(), async ({ db }) => {
        const applied = await migrate(db);
        if (options.json) printJson(applied);
        else if (applied.length === 0) print("The database is up to date.");
        else print(applied.map((name) => `applied ${name}`).join("\n"));
      });
    });
}
