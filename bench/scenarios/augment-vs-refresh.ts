import { join } from "node:path";
import { seedLibrary } from "../../primers/library/setup.ts";
import { runLoad } from "../lib/load.ts";
import type { Row, Scenario } from "../lib/scenario.ts";
import { sequential } from "../lib/sequential.ts";
import type { ServerHandle } from "../lib/servers.ts";
import { median, percentile } from "../lib/stats.ts";

/** The demo's primers: the scenario measures the demo's own sales report. */
const DEMO = join(import.meta.dirname, "..", "..", "primers");

const gql = (query: string): string => JSON.stringify({ query });
const REFRESH = gql('mutation { refresh(key: "salesTotals") { version } }');
// One document with variables, as a client sends it: parsed and validated once.
const SALE = "mutation Sale($sale: SaleInput!) { augmentSalesTotals(delta: $sale) { version } }";
const sale = (n: number): string =>
  JSON.stringify({
    query: SALE,
    variables: { sale: { bookId: 1 + (n % 200), quantity: 1 + (n % 3) } },
  });
const TOTALS = gql("{ salesTotals { books { bookId sales copies revenueCents } } }");

/**
 * Augment vs refresh on a product built from 100k rows: the demo's `salesTotals` (every
 * sale priced at the price valid when it was made, summed per book and author), served by
 * one KCK gateway. A refresh recomputes it over every sale; an augment records one new sale
 * and applies it to the stored value, in one transaction. Measured over HTTP GraphQL as a
 * client sees them: one at a time (latency), and augments from many connections at once
 * (throughput; refreshes of one key cannot overlap, so theirs is one over their latency).
 * At the end the augmented value must equal a full recompute.
 */
export const augmentVsRefresh: Scenario = {
  name: "augment-vs-refresh",
  title: "Augment vs refresh, a product built from 100k rows",
  async run(ctx) {
    const { quick } = ctx.settings;
    const sales = quick ? 10_000 : 100_000;
    const refreshes = quick ? 3 : 15;
    const augments = quick ? 30 : 500;
    const database = await ctx.database("sales");
    ctx.log(`  seeding ${sales.toLocaleString("en-US")} sales`);
    await seedLibrary(database.db, { sales });
    const [kck] = (await ctx.start([
      { spec: { kind: "kck", databaseUrl: database.url, primersDir: DEMO }, label: "KCK" },
    ])) as [ServerHandle];
    // The first read computes it; a few of each warm the paths.
    await sequential(kck.url, [TOTALS], "KCK");
    await sequential(kck.url, [REFRESH, REFRESH], "KCK");
    await sequential(
      kck.url,
      Array.from({ length: 20 }, (_, n) => sale(n)),
      "KCK",
    );

    await kck.startProfile();
    const refresh = (await sequential(kck.url, Array(refreshes).fill(REFRESH), "refresh")).times;
    const lone = (
      await sequential(
        kck.url,
        Array.from({ length: augments }, (_, n) => sale(n)),
        "augment",
      )
    ).times;
    const cpuBefore = (await kck.stats())["cpuMs"] ?? 0;
    let n = 0;
    const loads = [];
    for (let round = 0; round < ctx.settings.rounds; round++) {
      ctx.log(
        `  round ${round + 1}/${ctx.settings.rounds}: augments from ${ctx.settings.connections} connections`,
      );
      loads.push(
        await runLoad(
          kck.url,
          { nextBody: () => sale(n++) },
          { connections: ctx.settings.connections, seconds: ctx.settings.seconds },
        ),
      );
    }
    const cpuPerAugment = ((await kck.stats())["cpuMs"] ?? 0) - cpuBefore;
    await kck.stopProfile();

    // Every augment is in the value: a full recompute over the sales table agrees with it.
    const augmented = JSON.stringify((await sequential(kck.url, [TOTALS], "KCK")).answers[0]);
    await sequential(kck.url, [REFRESH], "KCK");
    const recomputed = JSON.stringify((await sequential(kck.url, [TOTALS], "KCK")).answers[0]);
    if (augmented !== recomputed) {
      throw new Error("The augmented salesTotals differs from a full recompute of it.");
    }
    const applied = augments + 20 + loads.reduce((sum, l) => sum + l.requests, 0);

    const refreshMs = median(refresh);
    const augmentMs = median(lone);
    const loadRps = median(loads.map((l) => l.rps));
    const refreshRps = 1000 / refreshMs;
    const rows: Row[] = [
      {
        label: "refresh (recompute), one at a time",
        rps: refreshRps,
        p50: refreshMs,
        p99: percentile(refresh, 99),
        ratio: 1,
        note: `median of ${refreshes}`,
      },
      {
        label: "augment (one sale), one at a time",
        rps: 1000 / augmentMs,
        p50: augmentMs,
        p99: percentile(lone, 99),
        ratio: refreshMs / augmentMs,
        note: `median of ${augments}`,
      },
      {
        label: `augment, ${ctx.settings.connections} connections`,
        rps: loadRps,
        p50: median(loads.map((l) => l.p50)),
        p99: median(loads.map((l) => l.p99)),
        ratio: loadRps / refreshRps,
        note: `server CPU ${(cpuPerAugment / Math.max(1, n)).toFixed(3)} ms per augment`,
      },
    ];
    return {
      rows,
      verdicts: [
        {
          goal: "one augment at least 1000x faster than one refresh (latency, one at a time)",
          measured: `${(refreshMs / augmentMs).toFixed(0)}x: ${augmentMs.toFixed(2)} ms vs ${refreshMs.toFixed(1)} ms`,
          met: refreshMs / augmentMs >= 1000,
        },
        {
          goal: "augments at least 1000x the throughput of refreshes (many clients)",
          measured: `${(loadRps / refreshRps).toFixed(0)}x: ${Math.round(loadRps)} augments/s vs ${refreshRps.toFixed(1)} refreshes/s`,
          met: loadRps / refreshRps >= 1000,
        },
      ],
      notes: [
        `${sales.toLocaleString("en-US")} sales seeded, ${applied.toLocaleString("en-US")} more recorded by augments; the augmented value equals a full recompute`,
        "times over HTTP GraphQL from this process to the gateway's child process, each from sending to the last byte",
      ],
    };
  },
};
