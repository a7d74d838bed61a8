import { type ChildProcess, spawn } from "node:child_process";

/** A `npm start` process (src/main.ts) run as a child, for signal and crash tests. */
export interface ChildGateway {
  readonly process: ChildProcess;
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** Starts src/main.ts with `env` on a free port and waits until it serves. */
export async function startChild(env: Record<string, string | undefined>): Promise<ChildGateway> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
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
      const match = /serving GraphQL and GraphiQL at (\S+)/.exec(output);
      if (match?.[1]) {
        clearInterval(timer);
        resolve(match[1].replace("localhost", "127.0.0.1"));
      }
    }, 25);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`The gateway exited (${code}) before serving:\n${output}`));
    });
  });
  return { process: child, url, output: () => output, exited };
}
