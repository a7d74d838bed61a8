import type { Command } from "commander";
import { print, printJson } from "../output.ts";
import { type ConfigReader, withDatabase } from "../session.ts";

/**
 * `kck migrate`: applies KCK's pending migrations, then the primer modules' setups (source
 * tables, seed rows: idempotent), and prints the migrations it applied. With `--prune`, also
 * drops the source triggers that neither the primers under KCK_PRIMERS_DIR nor any running KCK
 * process declares, and prints each.
 */
export function addMigrate(program: Command, config: ConfigReader): void {
  program
    .command("migrate")
    .description("apply KCK's pending database migrations and the primer modules' setups")
    .option("--json", "print what was done as JSON")
    .option(
      "--prune",
      "also drop the source triggers that no running process and no primer under KCK_PRIMERS_DIR declares",
    )
    .action(async (options: { json?: boolean; prune?: boolean }) => {
      const { loadPrimers, runSetups } = await import("../../load-primers.ts");
      const { migrate } = await import("../../sql/migrate.ts");
      const { pruneSourceTriggers } = await import("../../jobs/prune-triggers.ts");
      const current = config();
      // Loaded first: primers that do not load change nothing in the database.
      const { primers, setups } = await loadPrimers(current.primersDir);
      await withDatabase(current, async ({ db, log }) => {
        const applied = await migrate(db);
        await runSetups(db, setups);
        const pruned = options.prune ? await pruneSourceTriggers(db, primers, log) : undefined;
        if (options.json) {
          printJson(pruned === undefined ? applied : { applied, pruned });
          return;
        }
        const lines = applied.map((name) => `applied ${name}`);
        if (applied.length === 0) lines.push("The database is up to date.");
        if (pruned !== undefined) {
          if (pruned.length === 0) lines.push("No source trigger to prune.");
          for (const t of pruned) lines.push(`dropped kck.${t.name}: ${t.description}`);
        }
        print(lines.join("\n"));
      });
    });
}
