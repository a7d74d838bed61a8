import { createApp } from "./app.ts";
import { readConfig } from "./config.ts";
import { loadPrimers } from "./load-primers.ts";
import { createLogger } from "./logger.ts";

// Process start only: read the environment, build the app, stop it on a signal.
const config = readConfig();
const log = createLogger({ level: config.logLevel });
const { primers, setups } = await loadPrimers(config.primersDir);
const app = createApp({
  ...config,
  primers,
  setups,
  log,
  jobs: { worker: config.worker, concurrency: config.workerConcurrency },
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
  const { url } = await app.start();
  console.log(`KCK is serving GraphQL and GraphiQL at ${url}`);
} catch (error) {
  log.fatal({ err: error }, "could not start");
  process.exit(1);
}
