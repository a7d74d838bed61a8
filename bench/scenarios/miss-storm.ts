import { burst } from "../lib/burst.ts";
import { runLoad } from "../lib/load.ts";
import type { Row, Scenario } from "../lib/scenario.ts";
import type { ServerHandle } from "../lib/servers.ts";
import { median, percentile } from "../lib/stats.ts";
import { expectAnswer } from "../lib/verify.ts";
import { oneItemBody, slowItemBody, slowItemResponse } from "../lib/workload.ts";

/** CPU milliseconds the servers' processes used so far (once per process). */
async function cpuOf(servers: readonly ServerHandle[]): Promise<number> {
  const stats = await Promise.all(servers.map((server) => server.stats()));
  const perProcess = new Map(stats.map((s) => [s["pid"], s["cpuMs"] ?? 0]));
  return [...perProcess.values()].reduce((sum, ms) => sum + ms, 0);
}

/**
 * Miss storm: many concurrent requests for one missing key, spread over two KCK instances on
 * one database. Exactly one compute; every waiter answered within the compute time + 10 ms
 * (p99). A fresh key each round.
 */
export const missStorm: Scenario = {
  name: "miss-storm",
  title: "Miss storm over two instances",
  async run(ctx) {
    const requests = ctx.settings.quick ? 200 : 1000;
    const computeMs = ctx.settings.quick ? 100 : 250;
    const database = await ctx.database("main");
    const [a, b] = (await ctx.start([
      { spec: { kind: "kck", databaseUrl: database.url }, label: "KCK A" },
      { spec: { kind: "kck", databaseUrl: database.url }, label: "KCK B" },
    ])) as [ServerHandle, ServerHandle];
    // Warm both instances' code paths (and a stored item to hit) before the first storm.
    const warm = { connections: ctx.settings.connections, seconds: ctx.settings.warmupSeconds };
    await Promise.all([a, b].map((server) => runLoad(server.url, { body: oneItemBody(1) }, warm)));
    // And one compute each, so that each instance's compute-session pool holds a connection,
    // as it does on any server that has been up for a while.
    await Promise.all(
      [a, b].map((server, n) =>
        expectAnswer(server.url, slowItemBody(n + 1, 1), slowItemResponse(n + 1), "KCK"),
      ),
    );
    // And one small storm, unmeasured, so that the waiting and sharing code is warm too.
    await burst(
      Array.from({ length: Math.min(requests, 200) }, (_, n) => ({
        url: (n % 2 === 0 ? a : b).url,
        body: slowItemBody(999, 20),
        opener: oneItemBody(1),
      })),
    );
    await Promise.all([a.startProfile(), b.startProfile()]);
    const rows: Row[] = [];
    const overheads: number[] = [];
    const computes: number[] = [];
    const starts: number[] = [];
    for (let round = 1; round <= ctx.settings.rounds; round++) {
      const id = 1_000_000 + round;
      const body = slowItemBody(id, computeMs);
      let cpuBefore = 0;
      let cpu = 0;
      const { answers, startedAt } = await burst(
        Array.from({ length: requests }, (_, n) => ({
          url: (n % 2 === 0 ? a : b).url,
          body,
          opener: oneItemBody(1),
        })),
        {
          ready: async () => {
            cpuBefore = await cpuOf([a, b]);
          },
          settled: async () => {
            cpu = (await cpuOf([a, b])) - cpuBefore;
          },
        },
      );
      const expected = slowItemResponse(id);
      const wrong = answers.filter((answer) => answer.status !== 200 || answer.body !== expected);
      if (wrong.length > 0) {
        throw new Error(
          `${wrong.length} of ${requests} storm answers were wrong, such as ${wrong[0]?.status} ${wrong[0]?.body.slice(0, 200)}.`,
        );
      }
      // When the value was stored (the write statement's start, just after the compute) on the
      // database's clock, which is this machine's, as the burst's start is.
      const { rows: stored } = await database.db.query<{ n: number; ms: number; at: number }>(
        `select compute_count as n, last_compute_ms as ms,
           extract(epoch from computed_at) * 1000 as at from kck.products where key = $1`,
        [`slowItem/${id}/${computeMs}`],
      );
      const compute = stored[0] ?? { n: 0, ms: Number.NaN, at: Number.NaN };
      const began = compute.at - compute.ms - startedAt;
      const ms = answers.map((answer) => answer.ms);
      const p99 = percentile(ms, 99);
      computes.push(compute.n);
      starts.push(began);
      overheads.push(p99 - compute.ms);
      rows.push({
        label: `storm ${round}: ${requests} requests`,
        p50: percentile(ms, 50),
        p99,
        note: `computes ${compute.n}; compute ${compute.ms.toFixed(1)} ms, began ${began.toFixed(1)} ms after the burst; slowest ${Math.max(...ms).toFixed(1)} ms; p99 - compute ${(p99 - compute.ms).toFixed(1)} ms; servers' CPU ${cpu.toFixed(0)} ms`,
      });
    }
    await Promise.all([a.stopProfile(), b.stopProfile()]);
    const overhead = median(overheads);
    return {
      rows,
      verdicts: [
        {
          goal: "exactly one compute per storm",
          measured: `computes per round: ${computes.join(", ")}`,
          met: computes.every((n) => n === 1),
        },
        {
          goal: "waiters' p99 within compute time + 10 ms",
          measured: `p99 - compute time: ${overhead.toFixed(1)} ms (median over rounds; the compute began ${median(starts).toFixed(1)} ms after the burst)`,
          met: overhead <= 10,
        },
      ],
      notes: [
        `each request on its own keep-alive connection, opened and used once (a stored item) before the storm; compute ${computeMs} ms; latency from writing the request to its last byte; the compute's start from when it was stored (database clock, the same machine's); servers' CPU of both processes from the burst to its last answer`,
      ],
    };
  },
};
