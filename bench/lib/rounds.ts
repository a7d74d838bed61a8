import { type LoadResult, type LoadSpec, runLoad } from "./load.ts";
import type { BenchContext } from "./scenario.ts";
import type { ServerHandle } from "./servers.ts";
import { median } from "./stats.ts";

/** One target under one load, as a scenario lines them up. */
export interface Contender {
  label: string;
  server: ServerHandle;
  load: LoadSpec;
}

/** A contender's medians over the rounds, and its counters across them. */
export interface Measured {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  runs: LoadResult[];
  /** Requests over all rounds. */
  requests: number;
  /** The child's counters after the rounds minus before (statements, say), and after. */
  delta: Record<string, number>;
  after: Record<string, number>;
}

/**
 * Warms each contender up, then runs the rounds interleaved (round r starts at contender r),
 * so that a burst of noise from other work on the machine falls on all of them alike.
 */
export async function measureRounds(
  ctx: BenchContext,
  contenders: readonly Contender[],
): Promise<Measured[]> {
  const { settings } = ctx;
  const options = { connections: settings.connections, seconds: settings.seconds };
  for (const contender of contenders) {
    await runLoad(contender.server.url, contender.load, {
      ...options,
      seconds: settings.warmupSeconds,
    });
  }
  const before = await Promise.all(contenders.map((c) => c.server.stats()));
  await Promise.all(contenders.map((c) => c.server.startProfile()));
  const runs: LoadResult[][] = contenders.map(() => []);
  for (let round = 0; round < settings.rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const n = (round + i) % contenders.length;
      const contender = contenders[n] as Contender;
      ctx.log(`  round ${round + 1}/${settings.rounds}: ${contender.label}`);
      runs[n]?.push(await runLoad(contender.server.url, contender.load, options));
    }
  }
  await Promise.all(contenders.map((c) => c.server.stopProfile()));
  const after = await Promise.all(contenders.map((c) => c.server.stats()));
  return contenders.map((contender, n) => {
    const mine = runs[n] ?? [];
    const start = before[n] ?? {};
    const end = after[n] ?? {};
    return {
      label: contender.label,
      rps: median(mine.map((r) => r.rps)),
      p50: median(mine.map((r) => r.p50)),
      p99: median(mine.map((r) => r.p99)),
      runs: mine,
      requests: mine.reduce((sum, r) => sum + r.requests, 0),
      delta: Object.fromEntries(Object.entries(end).map(([k, v]) => [k, v - (start[k] ?? 0)])),
      after: end,
    };
  });
}
