import { runWorker } from "./cli/commands/worker.ts";
import { readConfig } from "./config.ts";
import { messageOf } from "./errors.ts";

// Process start of a dedicated worker (`npm run worker`, the same as `kck worker`).
try {
  await runWorker(readConfig());
} catch (error) {
  console.error(`KCK worker could not start: ${messageOf(error)}`);
  process.exit(1);
}
