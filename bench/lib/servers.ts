import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import type { FromChild, ToChild } from "./server-child.ts";
import type { TargetSpec } from "./target.ts";

const CHILD = join(import.meta.dirname, "server-child.ts");

/** A target running in a child process, seen from the parent. */
export interface ServerHandle {
  readonly url: string;
  /** The child's counters and memory (rss, heapUsed, and what the target reports). */
  stats(): Promise<Record<string, number>>;
  /** Starts the child's CPU profiler (when started with a profile folder). */
  startProfile(): Promise<void>;
  /** Stops it and writes the profile into the folder. */
  stopProfile(): Promise<void>;
  /** Stops the target; the child exits once all its targets are stopped. */
  stop(): Promise<void>;
}

/** Options for {@link startServers}. */
export interface StartOptions {
  /** Where the child writes the CPU profile of the measured rounds; none: no profile. */
  profileDir?: string | undefined;
}

/**
 * Starts targets together in one Node process (`node --import tsx`), away from the load
 * generator in this one, so that on a two-core machine the server and the load each have a core.
 */
export function startServers(
  specs: readonly TargetSpec[],
  options: StartOptions = {},
): Promise<ServerHandle[]> {
  const kinds = specs.map((spec) => spec.kind).join(", ");
  const child = fork(CHILD, [JSON.stringify(specs)], {
    execArgv: ["--conditions=kck-source", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`The ${kinds} server exited with code ${code} before it was ready.`));
    child.once("exit", onExit);
    child.on("message", function ready(message: FromChild) {
      if (message.type === "failed")
        reject(new Error(`The ${kinds} server failed: ${message.message}`));
      if (message.type !== "ready") return;
      child.off("message", ready);
      child.off("exit", onExit);
      resolve(handles(child, message.urls, options.profileDir));
    });
  });
}

function handles(
  child: ChildProcess,
  urls: string[],
  profileDir: string | undefined,
): ServerHandle[] {
  let next = 0;
  let profiles = 0;
  let running = urls.length;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Every request carries an id; the child answers with a stats message of the same id.
  const ask = (message: ToChild & { id: number }): Promise<Record<string, number>> =>
    new Promise((resolve) => {
      const onMessage = (answer: FromChild) => {
        if (answer.type !== "stats" || answer.id !== message.id) return;
        child.off("message", onMessage);
        resolve(answer.stats);
      };
      child.on("message", onMessage);
      child.send(message);
    });
  const stopChild = async (): Promise<void> => {
    if (child.exitCode === null && child.connected) child.send({ type: "stop" } satisfies ToChild);
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return urls.map((url, index) => {
    let stopped = false;
    return {
      url,
      stats: () => ask({ type: "stats", id: ++next, index }),
      async startProfile() {
        if (profileDir) await ask({ type: "profile", id: ++next, start: true });
      },
      async stopProfile() {
        if (!profileDir) return;
        const path = join(profileDir, `${process.pid}-${++profiles}.cpuprofile`);
        await ask({ type: "profile", id: ++next, start: false, path });
      },
      async stop() {
        if (!stopped) {
          stopped = true;
          running--;
        }
        if (running === 0) await stopChild();
      },
    };
  });
}
