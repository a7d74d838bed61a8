import type { Command } from "commander";
import type { Config } from "../../config.ts";
import { createLogger } from "../../logger.ts";
import type { ConfigReader } from "../session.ts";
import { stopOnSignals } from "../stop-on-signals.ts";

/**
 * Serves the gateway until SIGINT or SIGTERM, then stops cleanly and exits 0. Prints the
 * GraphQL, dashboard and metrics addresses on stdout once it is serving.
 */
export async function serve(config: Config): Promise<void> {
  const log = createLogger({ level: config.logLevel });
  const { createApp } = await import("../../app.ts");
  const { loadPrimers } = await import("../../load-primers.ts");
  const { primers, setups } = await loadPrimers(config.primersDir);
  const app = createApp({
    ...config,
    primers,
    setups,
    log,
    processMetrics: true,
    jobs: { worker: config.worker, concurrency: config.workerConcurrency },
  });
  stopOnSignals(app, log, {
    drainTimeoutMs: config.drainTimeoutMs,
    stopWithParent: config.startedByNpm,
  });
  let url: string;
  try {
    ({ url } = await app.start());
  } catch (error) {
    log.fatal({ err: error }, "could not start");
    throw error;
  }
  const base = url.replace(/\/graphql$/, "");
  console.log(`KCK is serving GraphQL${config.graphiql ? " and GraphiQL" : ""} at ${url}`);
  console.log(`Dashboard: ${base}/kck  Metrics: ${base}/metrics`);
}

/** `kck serve`: the gateway (GraphQL, dashboard, metrics), as `npm start`. */
export function addServe(program: Command, config: ConfigReader): void {
  program
    .command("serve")
    .description("serve GraphQL, the dashboard (/kck) and metrics (/metrics) until stopped")
    .option("--port <port>", "the HTTP port (PORT); 0 picks a free one")
    .option("--host <host>", "the interface to listen on (HOST)")
    .action(async (options: { port?: string; host?: string }) => {
      // Flags override the environment, and are checked as it is.
      await serve(
        config({
          ...(options.port === undefined ? {} : { PORT: options.port }),
          ...(options.host === undefined ? {} : { HOST: options.host }),
        }),
      );
    });
}
