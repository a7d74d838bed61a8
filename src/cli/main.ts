import { Command, CommanderError } from "commander";
import { readConfig } from "../config.ts";
import { addCodegen } from "./commands/codegen.ts";
import { addDev } from "./commands/dev.ts";
import { addGet } from "./commands/get.ts";
import { addGraph } from "./commands/graph.ts";
import { addInit } from "./commands/init.ts";
import { addInspect } from "./commands/inspect.ts";
import { addMigrate } from "./commands/migrate.ts";
import { addPrime } from "./commands/prime.ts";
import { addInvalidate, addRefresh } from "./commands/refresh.ts";
import { addServe } from "./commands/serve.ts";
import { addWorker } from "./commands/worker.ts";
import { EXIT, errorLine, exitCodeOf } from "./exit-codes.ts";
import type { ConfigReader } from "./session.ts";

// Process start of the `kck` command: the environment is read here (through readConfig) and
// nowhere else; each command gets the config and acts on the database through the engine.
const config: ConfigReader = (overrides = {}) => readConfig({ ...process.env, ...overrides });

const program = new Command("kck")
  .description(
    "KCK: data products computed on demand into PostgreSQL and served as GraphQL.\n" +
      "Commands act on DATABASE_URL (or the embedded database under KCK_DATA_DIR) with the primers\n" +
      "under KCK_PRIMERS_DIR. Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found.",
  )
  .version("0.1.0")
  .showHelpAfterError("(run kck --help for usage)")
  .exitOverride();

addInit(program);
addServe(program, config);
addDev(program, config);
addWorker(program, config);
addMigrate(program, config);
addGet(program, config);
addPrime(program, config);
addRefresh(program, config);
addInvalidate(program, config);
addInspect(program, config);
addGraph(program, config);
addCodegen(program);

const finish = (code: number): void => {
  // Both streams are flushed before exiting, so no output a script waits for is lost.
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
};

try {
  await program.parseAsync(process.argv);
  // `serve` keeps running until a signal; every other command is done here.
  if (program.args[0] !== "serve" && program.args[0] !== "dev") finish(EXIT.OK);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; help and version are not errors.
    const fine = error.code === "commander.helpDisplayed" || error.code === "commander.version";
    finish(fine || error.exitCode === 0 ? EXIT.OK : EXIT.USAGE);
  } else {
    process.stderr.write(`${errorLine(error)}\n`);
    finish(exitCodeOf(error));
  }
}
