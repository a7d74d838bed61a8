import type { Config } from "../config.ts";
import type { Db } from "../db/db.ts";
import type { Engine } from "../engine/engine.ts";
import { createLogger, type Logger } from "../logger.ts";

// The database, engine and primer loading are imported when a command runs, not when `kck`
// starts: `kck --help` and `kck init` never load them, and a read-only command loads no more.

/** Reads the config from the environment, with some variables overridden (by flags). */
export type ConfigReader = (overrides?: Readonly<Record<string, string>>) => Config;

/** What a one-shot command works with. */
export interface CommandSession {
  readonly db: Db;
  readonly log: Logger;
}

/** The same, with an engine over the primers of KCK_PRIMERS_DIR. */
export interface EngineSession extends CommandSession {
  readonly engine: Engine;
}

/** The logger of one-shot commands: stderr, so that stdout carries only the data. */
export function commandLogger(config: Config): Logger {
  return createLogger({ level: config.commandLogLevel, destination: 2 });
}

/** Opens the database (DATABASE_URL, or the embedded one), runs `fn`, and closes it. */
export async function withDatabase<T>(
  config: Config,
  fn: (session: CommandSession) => Promise<T>,
): Promise<T> {
  const log = commandLogger(config);
  const { openDatabase } = await import("../db/open.ts");
  const opened = await openDatabase({ ...config, log });
  try {
    return await fn({ db: opened.db, log });
  } finally {
    await opened.close();
  }
}

/**
 * Opens the database, loads the primers, starts an engine (which migrates), optionally runs
 * the primer modules' setups, runs `fn`, and stops everything, background refreshes included.
 * `setups: "new"` runs them only on a database KCK has just migrated (a read-only command on a
 * new database still finds the source tables; on a used one it costs nothing).
 */
export async function withEngine<T>(
  config: Config,
  options: { setups: boolean | "new" },
  fn: (session: EngineSession) => Promise<T>,
): Promise<T> {
  const { loadPrimers, runSetups } = await import("../load-primers.ts");
  const [{ Engine }, { ValueChecker }, { Augmenter }] = await Promise.all([
    import("../engine/engine.ts"),
    import("../graphql/value-checker.ts"),
    import("../augment/augmenter.ts"),
  ]);
  const { primers, setups } = await loadPrimers(config.primersDir);
  return withDatabase(config, async ({ db, log }) => {
    let runThem = options.setups === true;
    if (options.setups === "new") {
      const { migrate } = await import("../sql/migrate.ts");
      runThem = (await migrate(db)).length > 0;
    }
    // No job system: background work runs in this process, for as long as the command does.
    const engine = await Engine.start({
      db,
      primers,
      log,
      values: new ValueChecker(primers),
      augmenter: (built) => new Augmenter(built, { log }),
    });
    try {
      if (runThem) await runSetups(db, setups);
      return await fn({ db, log, engine });
    } finally {
      await engine.stop();
    }
  });
}
