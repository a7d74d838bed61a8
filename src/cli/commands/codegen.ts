import { spawn } from "node:child_process";
import type { Command } from "commander";
import { CliError, EXIT } from "../exit-codes.ts";

/** `kck codegen`: runs `npm run codegen` in the current folder (the schema printer). */
export function addCodegen(program: Command): void {
  program
    .command("codegen")
    .description("print the schema and generate types: runs `npm run codegen` here")
    .action(async () => {
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn("npm", ["run", "codegen"], { stdio: "inherit" });
        child.once("error", reject);
        child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
      });
      if (code !== 0) throw new CliError(EXIT.FAILURE, `\`npm run codegen\` exited with ${code}.`);
    });
}
