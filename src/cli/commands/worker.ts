import type { Command } from "commander";
import { CliError, EXIT } from "../exit-codes.ts";

/** `kck worker`: runs the job queue's worker, when this build has one. */
export function addWorker(program: Command): void {
  program
    .command("worker")
    .description("run background jobs (scheduled and dependent refreshes)")
    .action(() => {
      throw new CliError(
        EXIT.USAGE,
        "`kck worker` is not available in this build: it has no job queue worker. Use `kck serve`, which refreshes in process.",
      );
    });
}
