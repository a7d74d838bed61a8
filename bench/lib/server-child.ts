// The child process that runs one target, so that the server has a core of its own while the
// load generator runs in the parent. Speaks to the parent over the IPC channel only.
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import type { TargetSpec } from "./target.ts";
import { TARGETS } from "./targets.ts";

/** Messages the parent sends. */
export type ToChild =
  | { type: "stats"; id: number }
  | { type: "profile"; id: number; start: true }
  | { type: "profile"; id: number; start: false; path: string }
  | { type: "stop" };
/** Messages the child sends. */
export type FromChild =
  | { type: "ready"; url: string }
  | { type: "failed"; message: string }
  | { type: "stats"; id: number; stats: Record<string, number> };

let session: Session | undefined;

/** Starts or stops the V8 CPU profiler (writing a .cpuprofile), so that only the measured rounds are in it. */
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
const spec = JSON.parse(process.argv[2] ?? "{}") as TargetSpec;

try {
  const target = await TARGETS[spec.kind](spec);
  process.on("message", (message: ToChild) => {
    if (message.type === "stats") {
      const { rss, heapUsed } = process.memoryUsage();
      send({ type: "stats", id: message.id, stats: { ...target.stats?.(), rss, heapUsed } });
    } else if (message.type === "profile") {
      void profile(message).then(() => send({ type: "stats", id: message.id, stats: {} }));
    } else if (message.type === "stop") {
      void target.stop().finally(() => process.exit(0));
    }
  });
  // The parent went away without stopping us: do not linger.
  process.on("disconnect", () => process.exit(0));
  send({ type: "ready", url: target.url });
} catch (error) {
  send({
    type: "failed",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exit(1);
}
