import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, watch } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { Config } from "../../config.ts";
import type { ConfigReader } from "../session.ts";

/**
 * The development loop: the embedded database (owned here, so it survives reloads), and the
 * gateway (`kck serve`, GraphiQL on) in a child process that is replaced, drained first, when a
 * file under the primers folder is saved. The project's own `tsc` checks the primers after each
 * save and prints the errors without stopping anything.
 */
export async function dev(config: Config): Promise<void> {
  const { createLogger } = await import("../../logger.ts");
  const log = createLogger({ level: config.logLevel });
  let databaseUrl = config.databaseUrl;
  let stopDatabase = async () => {};
  if (databaseUrl === undefined) {
    const { startEmbedded } = await import("../../db/embedded.ts");
    const embedded = await startEmbedded({ dataDir: config.dataDir, log });
    databaseUrl = embedded.url;
    stopDatabase = embedded.stop;
  }
  const bin = process.argv[1] ?? "kck";
  let child: ChildProcess | undefined;
  const start = () => {
    child = spawn(process.execPath, [...process.execArgv, bin, "serve"], {
      stdio: "inherit",
      env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(config.port) },
    });
  };
  const stopChild = async () => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null) return;
    const exited = new Promise((done) => current.once("exit", done));
    current.kill("SIGTERM");
    await exited;
  };
  const typecheck = () => {
    const tsc = resolve("node_modules/.bin/tsc");
    if (!existsSync(tsc) || !existsSync("tsconfig.json")) return;
    const check = spawn(tsc, ["--noEmit", "-p", "."], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    check.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    check.on("exit", (code) => {
      if (code !== 0) process.stderr.write(`kck dev: type errors (still serving):\n${output}`);
    });
  };
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(resolve(config.primersDir), { recursive: true }, (_event, file) => {
    if (file && !/\.[mc]?[jt]s$/.test(String(file))) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      console.log(`kck dev: ${join(config.primersDir, String(file ?? ""))} changed: reloading`);
      await stopChild();
      start();
      typecheck();
    }, 100);
  });
  const shutdown = async () => {
    watcher.close();
    await stopChild();
    await stopDatabase();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => void shutdown());
  }
  start();
  typecheck();
}

/** `kck dev`: the gateway on the embedded database, reloaded when a primer is saved. */
export function addDev(program: Command, config: ConfigReader): void {
  program
    .command("dev")
    .description("serve with GraphiQL, reloading the gateway when a file under primers/ is saved")
    .option("--port <port>", "the HTTP port (PORT)")
    .action(async (options: { port?: string }) => {
      await dev(config(options.port === undefined ? {} : { PORT: options.port }));
    });
}
