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
  /** Stops the target and waits for the child to exit. */
  stop(): Promise<void>;
}

/** Options for {@link startServer}. */
export interface StartOptions {
  /** Where the child writes the CPU profile of the measured rounds; none: no profile. */
  profileDir?: string | undefined;
}

/**
 * Starts a target in its own Node process (`node --import tsx`), so that on a two-core machine
 * the server and the load generator in this process each have a core.
 */
export function startServer(spec: TargetSpec, options: StartOptions = {}): Promise<ServerHandle> {
  const child = fork(CHILD, [JSON.stringify(spec)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`The ${spec.kind} server exited with code ${code} before it was ready.`));
    child.once("exit", onExit);
    child.on("message", function ready(message: FromChild) {
      if (message.type === "failed")
        reject(new Error(`The ${spec.kind} server failed: ${message.message}`));
      if (message.type !== "ready") return;
      child.off("message", ready);
      child.off("exit", onExit);
      resolve(handle(child, message.url, options.profileDir));
    });
  });
}

function handle(child: ChildProcess, url: string, profileDir: string | undefined): ServerHandle {
  let next = 0;
  let profiles = 0;
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
  return {
    url,
    stats: () => ask({ type: "stats", id: ++next }),
    async startProfile() {
      if (profileDir) await ask({ type: "profile", id: ++next, start: true });
    },
    async stopProfile() {
      if (!profileDir) return;
      const path = join(profileDir, `${process.pid}-${++profiles}.cpuprofile`);
      await ask({ type: "profile", id: ++next, start: false, path });
    },
    async stop() {
      if (child.exitCode === null && child.connected)
        child.send({ type: "stop" } satisfies ToChild);
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
