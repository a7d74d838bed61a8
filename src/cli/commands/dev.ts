import type { Command } from "commander";
import type { Config } from "../../config.ts";
import type { ConfigReader } from "../session.ts";

// A SIGINT repeated within this time is the same Ctrl-C delivered twice (to npm and to node).
const REPEAT_MS = 1000;

/**
 * The development loop, in this one process: the embedded database (unless DATABASE_URL is
 * set), GraphiQL, and a watch on the primers folder; a saved change is swapped in without a
 * restart (src/dev/dev-loop.ts). Stops on SIGINT or SIGTERM: the app drains, the embedded
 * database stops, and the process exits 0 (1 on a second signal).
 */
export async function dev(config: Config, schemaFile: string | undefined): Promise<void> {
  const { createLogger } = await import("../../logger.ts");
  const { startDevLoop } = await import("../../dev/dev-loop.ts");
  const log = createLogger({ level: config.logLevel });
  let databaseUrl = config.databaseUrl;
  let stopDatabase = async () => {};
  if (databaseUrl === undefined) {
    const { startEmbedded } = await import("../../db/embedded.ts");
    const embedded = await startEmbedded({ dataDir: config.dataDir, log });
    databaseUrl = embedded.url;
    stopDatabase = embedded.stop;
  }
  let loop: Awaited<ReturnType<typeof startDevLoop>> | undefined;
  let stopping = 0;
  const shutdown = async (signal: string) => {
    if (stopping > 0) {
      if (signal === "SIGINT" && Date.now() - stopping < REPEAT_MS) return;
      process.exit(1);
    }
    stopping = Date.now();
    log.info({ signal }, "stopping");
    await loop?.stop().catch((error: unknown) => log.error({ err: error }, "could not stop"));
    await stopDatabase();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(signal));
  }
  if (config.startedByNpm) {
    // npm's `sh -c` dies of a forwarded SIGTERM without passing it on: follow the parent.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void shutdown("the parent process exited");
    }, 200).unref();
  }
  try {
    loop = await startDevLoop({
      app: {
        ...config,
        log,
        graphiql: config.graphiql,
        jobs: { worker: config.worker, concurrency: config.workerConcurrency },
      },
      databaseUrl,
      primersDir: config.primersDir,
      schemaFile,
      port: config.port,
      host: config.host,
      drainTimeoutMs: config.drainTimeoutMs,
      log,
    });
  } catch (error) {
    await stopDatabase();
    throw error;
  }
  console.log(`KCK is serving GraphQL${config.graphiql ? " and GraphiQL" : ""} at ${loop.url}`);
  console.log(`kck dev: watching ${config.primersDir}/ (Ctrl-C stops)`);
}

/** `kck dev`: the gateway on the embedded database, reloaded in place when a primer is saved. */
export function addDev(program: Command, config: ConfigReader): void {
  program
    .command("dev")
    .description(
      "serve with GraphiQL, swapping in the primers' new code in place when a file under primers/ is saved",
    )
    .option("--port <port>", "the HTTP port (PORT); 0 picks a free one")
    .option("--host <host>", "the interface to listen on (HOST)")
    .option("--schema <file>", "where to print the schema at each reload", "schema/schema.graphql")
    .option("--no-schema", "print no schema file")
    .action(async (options: { port?: string; host?: string; schema: string | false }) => {
      await dev(
        config({
          ...(options.port === undefined ? {} : { PORT: options.port }),
          ...(options.host === undefined ? {} : { HOST: options.host }),
        }),
        options.schema === false ? undefined : options.schema,
      );
    });
}
