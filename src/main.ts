import { serve } from "./cli/commands/serve.ts";
import { readConfig } from "./config.ts";
import { messageOf } from "./errors.ts";

// Process start of `npm start` (the same as `kck serve`): read the environment and serve.
try {
  await serve(readConfig());
} catch (error) {
  console.error(`KCK could not start: ${messageOf(error)}`);
  process.exit(1);
}
