import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { setPriority } from "node:os";
import { resolve } from "node:path";

/** The project's type checker, run after each reload. */
export interface TypeChecker {
  /** Checks the project now (a check still running is stopped first). */
  run(): void;
  /** Stops a check that is running. */
  stop(): void;
}

/**
 * Runs the project's own `tsc --noEmit` (node_modules/.bin/tsc with ./tsconfig.json; nothing
 * when either is missing) and reports its errors through `report`, or a line when a check
 * passes after one that failed. It never stops the server: primer modules load whatever their
 * types say (tsx only strips them).
 */
export function typeChecker(report: (text: string) => void): TypeChecker {
  let running: ChildProcess | undefined;
  let failing = false;
  const stop = () => {
    const current = running;
    running = undefined;
    if (current !== undefined && current.exitCode === null) current.kill();
  };
  return {
    stop,
    run() {
      stop();
      const tsc = resolve("node_modules/.bin/tsc");
      if (!existsSync(tsc) || !existsSync("tsconfig.json")) return;
      const check = spawn(tsc, ["--noEmit", "-p", "."], { stdio: ["ignore", "pipe", "pipe"] });
      running = check;
      // The lowest priority: the check never slows down the server answering the new code.
      if (check.pid !== undefined) {
        try {
          setPriority(check.pid, 19);
        } catch {
          // Not allowed here: it runs at the server's priority.
        }
      }
      let output = "";
      const add = (chunk: Buffer) => {
        output += chunk.toString();
      };
      check.stdout?.on("data", add);
      check.stderr?.on("data", add);
      check.once("error", (error) => report(`kck dev: could not run tsc: ${error.message}\n`));
      check.once("exit", (code, signal) => {
        if (running === check) running = undefined;
        if (signal !== null) return;
        if (code !== 0) {
          failing = true;
          report(`kck dev: type errors (still serving):\n${output}`);
        } else if (failing) {
          failing = false;
          report("kck dev: no type errors\n");
        }
      });
    },
  };
}
