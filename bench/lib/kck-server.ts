import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { loadPrimers } from "../../src/load-primers.ts";
import type { RunningTarget, TargetSpec } from "./target.ts";

const BENCH_PRIMERS = join(import.meta.dirname, "..", "primers");

/**
 * A KCK gateway serving the bench's own primers (bench/primers), or the folder the spec names,
 * on the scenario's database.
 */
export async function startKck(spec: TargetSpec): Promise<RunningTarget> {
  const { primers, setups } = await loadPrimers(spec.primersDir ?? BENCH_PRIMERS);
  const app = createApp({
    primers,
    setups,
    databaseUrl: spec.databaseUrl,
    port: 0,
    host: "127.0.0.1",
    ...(spec.memory === undefined ? {} : { memory: spec.memory }),
    ...(spec.responseCache === undefined ? {} : { responseCache: spec.responseCache }),
  });
  const { url } = await app.start();
  return {
    url,
    stats() {
      const memory = app.engine.memory?.stats();
      const responses = app.responseCache?.stats();
      return {
        statements: app.engine.db.stats.statements,
        ...(memory ? { memoryEntries: memory.entries, memoryBytes: memory.bytes } : {}),
        ...(responses
          ? {
              responseEntries: responses.entries,
              responseBytes: responses.bytes,
              responseHits: responses.hits,
            }
          : {}),
      };
    },
    stop: () => app.stop(),
  };
}
