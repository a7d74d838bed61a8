import { type ChildProcess, spawn } from "node:child_process";

/** A `npm start` (or `npm run worker`) process run as a child, for signal and crash tests. */
export interface ChildGateway {
  readonly process: ChildProcess;
  /** Its GraphQL URL ("" for a worker). */
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** Starts src/main.ts with `env` on a free port and waits until it serves. */
export async function startChild(env: Record<string, string | undefined>): Promise<ChildGateway> {
  return start("src/main.ts", env, (output) => {
    const match = /serving GraphQL and GraphiQL at (\S+)/.exec(output);
    return match?.[1]?.replace("localhost", "127.0.0.1");
  });
}

/** Starts src/worker-main.ts (`npm run worker`) with `env` and waits until it runs; url is "". */
export async function startWorkerChild(
  env: Record<string, string | undefined>,
): Promise<ChildGateway> {
  return start("src/worker-main.ts", env, (output) =>
    output.includes("KCK worker started") ? "" : undefined,
  );
}

async function start(
  entry: string,
  env: Record<string, string | undefined>,
  started: (output: string) => string | undefined,
): Promise<ChildGateway> {
  const child = spawn(process.execPath, ["--conditions=kck-source", "--import", "tsx", entry], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const url = started(output);
      if (url !== undefined) {
        clearInterval(timer);
        resolve(url);
      }
    }, 25);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`${entry} exited (${code}) before it was running:\n${output}`));
    });
  });
  return { process: child, url, output: () => output, exited };
}
