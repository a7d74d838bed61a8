import type { Command } from "commander";
import type { Config } from "../../config.ts";
import { createLogger } from "../../logger.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import type { ConfigReader } from "../session.ts";
import { stopOnSignals } from "../stop-on-signals.ts";

/**
 * Runs a dedicated worker (background jobs only, no HTTP) against the gateways' database until
 * SIGINT or SIGTERM, then stops cleanly and exits 0. Prints "KCK worker started" once running.
 */
export async function runWorker(config: Config): Promise<void> {
  if (config.databaseUrl === undefined) {
    throw new CliError(
      EXIT.USAGE,
      "A dedicated worker needs DATABASE_URL: it shares the gateways' PostgreSQL. With the embedded database, `kck serve` runs the jobs itself (KCK_WORKER=1).",
    );
  }
  const log = createLogger({ level: config.logLevel });
  const { createApp } = await import("../../app.ts");
  const { loadPrimers } = await import("../../load-primers.ts");
  const { primers, setups } = await loadPrimers(config.primersDir);
  const app = createApp({
    ...config,
    primers,
    setups,
    log,
    http: false,
    jobs: { worker: true, concurrency: config.workerConcurrency },
  });
  stopOnSignals(app, log, {
    drainTimeoutMs: config.drainTimeoutMs,
    stopWithParent: config.startedByNpm,
  });
  await app.start();
  console.log("KCK worker started");
}

/** `kck worker`: a dedicated process for background jobs, as `npm run worker`. */
export function addWorker(program: Command, config: ConfigReader): void {
  program
    .command("worker")
    .description("run background jobs (scheduled, triggered and dependent refreshes) without HTTP")
    .action(async () => {
      await runWorker(config());
    });
}
