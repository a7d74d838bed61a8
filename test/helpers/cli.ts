import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The `kck` bin, run as a user runs it. */
export const KCK_BIN = fileURLToPath(new URL("../../bin/kck.js", import.meta.url));
/** The repository root: the demo primers are under `primers/` there. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** What a finished `kck` run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link runCli} and {@link startCli}. */
export interface CliOptions {
  /** Variables on top of a clean environment (no DATABASE_URL, KCK_*, PORT or LOG_LEVEL). */
  env?: Record<string, string>;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** @default the repository root */
  cwd?: string;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL|KCK_.*|PORT|HOST|LOG_LEVEL)$/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Starts `kck args...` as a child process. */
export function startCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  const child = spawn(process.execPath, [KCK_BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cleanEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin?.end(options.input ?? "");
  return child;
}

/** Runs `kck args...` to its end and returns its exit code and output. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, options);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `kck serve` running in the background. */
export interface ServingCli {
  readonly child: ChildProcess;
  /** The GraphQL URL it printed. */
  readonly url: string;
  /** Sends SIGTERM and resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `kck serve` on a free port and waits until it prints its address. */
export async function serveCli(options: CliOptions = {}): Promise<ServingCli> {
  const child = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], options);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const match = /serving GraphQL and GraphiQL at (\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    void exited.then((code) => reject(new Error(`kck serve exited with ${code}: ${output}`)));
  });
  return {
    child,
    url,
    stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
