// The child process that runs targets, so that a server has a core of its own while the load
// generator runs in the parent. Usually one target per child; --quick puts a scenario's
// targets in one child to start fewer processes. Speaks to the parent over IPC only.
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import type { RunningTarget, TargetSpec } from "./target.ts";
import { TARGETS } from "./targets.ts";

/** Messages the parent sends; `index` picks one of the child's targets. */
export type ToChild =
  | { type: "stats"; id: number; index: number }
  | { type: "profile"; id: number; start: true }
  | { type: "profile"; id: number; start: false; path: string }
  | { type: "stop" };
/** Messages the child sends. */
export type FromChild =
  | { type: "ready"; urls: string[] }
  | { type: "failed"; message: string }
  | { type: "stats"; id: number; stats: Record<string, number> };

let session: Session | undefined;

/** Starts or stops the V8 CPU profiler, so that only the measured rounds are in the profile. */
async function profile(message: Extract<ToChild, { type: "profile" }>): Promise<void> {
  if (message.start) {
    session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 250 });
    await session.post("Profiler.start");
    return;
  }
  const { profile: result } = await (session as Session).post("Profiler.stop");
  await writeFile(message.path, JSON.stringify(result));
  session?.disconnect();
  session = undefined;
}

const send = (message: FromChild): void => void process.send?.(message);
const specs = JSON.parse(process.argv[2] ?? "[]") as TargetSpec[];

try {
  const targets: RunningTarget[] = [];
  for (const spec of specs) targets.push(await TARGETS[spec.kind](spec));
  process.on("message", (message: ToChild) => {
    if (message.type === "stats") {
      const { rss, heapUsed } = process.memoryUsage();
      const { user, system } = process.cpuUsage();
      const stats = targets[message.index]?.stats?.();
      send({
        type: "stats",
        id: message.id,
        stats: { ...stats, pid: process.pid, rss, heapUsed, cpuMs: (user + system) / 1000 },
      });
    } else if (message.type === "profile") {
      void profile(message).then(() => send({ type: "stats", id: message.id, stats: {} }));
    } else if (message.type === "stop") {
      void Promise.allSettled(targets.map((t) => t.stop())).finally(() => process.exit(0));
    }
  });
  // The parent went away without stopping us: do not linger.
  process.on("disconnect", () => process.exit(0));
  send({ type: "ready", urls: targets.map((t) => t.url) });
} catch (error) {
  send({
    type: "failed",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exit(1);
}
