import { createApp } from "./app.ts";
import { readConfig } from "./config.ts";
import { loadPrimers } from "./load-primers.ts";
import { createLogger } from "./logger.ts";

// Process start of a dedicated worker (`npm run worker`): the same primers and database as
// the gateways, background jobs only, no HTTP.
const config = readConfig();
const log = createLogger({ level: config.logLevel });
if (config.databaseUrl === undefined) {
  log.fatal(
    "npm run worker needs DATABASE_URL: a dedicated worker shares the gateways' PostgreSQL. With the embedded database, `npm start` runs the jobs itself (KCK_WORKER=1).",
  );
  process.exit(1);
}
const { primers, setups } = await loadPrimers(config.primersDir);
const app = createApp({
  ...config,
  primers,
  setups,
  log,
  http: false,
  jobs: { worker: true, concurrency: config.workerConcurrency },
});

let stopping = false;
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping");
  await app.stop();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

try {
  await app.start();
  log.info("KCK worker started");
} catch (error) {
  log.fatal({ err: error }, "could not start");
  process.exit(1);
}
