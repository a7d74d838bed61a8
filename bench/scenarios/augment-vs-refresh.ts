import type { Queryable } from "../../src/db/db.ts";
import { startDemo } from "../lib/demo.ts";
import { runLoad } from "../lib/load.ts";
import type { Row, Scenario } from "../lib/scenario.ts";
import { sequential } from "../lib/sequential.ts";
import { median, percentile } from "../lib/stats.ts";

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

/** One refresh and one augment, each timed alone, over the sales the database holds now. */
async function alone(
  url: string,
  refreshes: number,
  augments: number,
  first: number,
): Promise<{ refresh: number[]; augment: number[] }> {
  const refresh = (await sequential(url, Array(refreshes).fill(REFRESH), "refresh")).times;
  const bodies = Array.from({ length: augments }, (_, n) => sale(first + n));
  return { refresh, augment: (await sequential(url, bodies, "augment")).times };
}

const count = (n: number): string => n.toLocaleString("en-US");

/** Waits until the product's version has stood still for 300 ms: no augment is in flight. */
async function quiet(db: Queryable): Promise<void> {
  const version = async () =>
    (
      await db.query<{ version: number }>(
        "select version from kck.products where key = 'salesTotals'",
      )
    ).rows[0]?.version;
  for (let last = await version(); ; ) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = await version();
    if (now === last) return;
    last = now;
  }
}

/**
 * Augment vs refresh on a product built from 100k rows: the demo's `salesTotals` (every
 * sale priced at the price valid when it was made, summed per book and author), served by
 * one KCK gateway. A refresh recomputes it over every sale; an augment records one new sale
 * and applies it to the stored value, in one transaction. Measured over HTTP GraphQL as a
 * client sees them: one at a time (latency), and augments from many connections at once
 * (throughput; refreshes of one key cannot overlap, so theirs is one over their latency).
 * The full run then grows the table to 1M sales and times both alone again: an augment's
 * cost does not grow with the rows, a refresh's does. At the end the augmented value must
 * equal a full recompute.
 */
export const augmentVsRefresh: Scenario = {
  name: "augment-vs-refresh",
  title: "Augment vs refresh, a product built from 100k rows",
  async run(ctx) {
    const { quick, connections } = ctx.settings;
    const sales = quick ? 10_000 : 100_000;
    const { database, kck } = await startDemo(ctx, "sales", sales);
    let seeded = sales;
    // The first read computes it; a few of each warm the paths.
    await sequential(kck.url, [TOTALS], "KCK");
    let applied = (await alone(kck.url, 2, 20, 0)).augment.length;

    await kck.startProfile();
    const small = await alone(kck.url, quick ? 3 : 15, quick ? 30 : 500, applied);
    applied += small.augment.length;
    const cpuBefore = (await kck.stats())["cpuMs"] ?? 0;
    let next = applied;
    const loads = [];
    for (let round = 0; round < ctx.settings.rounds; round++) {
      ctx.log(
        `  round ${round + 1}/${ctx.settings.rounds}: augments from ${connections} connections`,
      );
      loads.push(
        await runLoad(
          kck.url,
          { nextBody: () => sale(next++) },
          { connections, seconds: ctx.settings.seconds },
        ),
      );
    }
    const loaded = loads.reduce((sum, l) => sum + l.requests, 0);
    const cpuPerAugment = (((await kck.stats())["cpuMs"] ?? 0) - cpuBefore) / Math.max(1, loaded);
    await kck.stopProfile();
    applied += loaded;

    const refreshMs = median(small.refresh);
    const augmentMs = median(small.augment);
    const loadRps = median(loads.map((l) => l.rps));
    const refreshRps = 1000 / refreshMs;
    const rows: Row[] = [
      {
        label: `refresh, one at a time (${count(sales)} rows)`,
        rps: refreshRps,
        p50: refreshMs,
        p99: percentile(small.refresh, 99),
        ratio: 1,
        note: `median of ${small.refresh.length}`,
      },
      {
        label: "augment, one at a time",
        rps: 1000 / augmentMs,
        p50: augmentMs,
        p99: percentile(small.augment, 99),
        ratio: refreshMs / augmentMs,
        note: `median of ${small.augment.length}`,
      },
      {
        label: `augment, ${connections} connections`,
        rps: loadRps,
        p50: median(loads.map((l) => l.p50)),
        p99: median(loads.map((l) => l.p99)),
        ratio: loadRps / refreshRps,
        note: `server CPU ${cpuPerAugment.toFixed(3)} ms per augment`,
      },
    ];
    let large = "";
    let largeLoad = "";
    if (!quick) {
      const more = 1_000_000 - sales - applied;
      seeded += more;
      ctx.log(`  growing the sales table by ${count(more)} rows`);
      await database.db.query(
        `insert into sales (book_id, quantity, sold_at)
         select 1 + g % 200, 1 + g % 3, timestamptz '2020-01-01' + g * interval '4 minutes'
         from generate_series(1, $1::int) as g;
         analyze sales`.replace("$1::int", String(more)),
      );
      const big = await alone(kck.url, 5, 200, applied);
      applied += big.augment.length;
      next = applied;
      const bigLoad = await runLoad(
        kck.url,
        { nextBody: () => sale(next++) },
        { connections, seconds: ctx.settings.seconds },
      );
      applied += bigLoad.requests;
      const bigRefresh = median(big.refresh);
      const bigAugment = median(big.augment);
      rows.push(
        {
          label: "refresh, one at a time (1,000,000 rows)",
          rps: 1000 / bigRefresh,
          p50: bigRefresh,
          p99: percentile(big.refresh, 99),
          ratio: refreshMs / bigRefresh,
          note: `median of ${big.refresh.length}`,
        },
        {
          label: "augment, one at a time (1,000,000 rows)",
          rps: 1000 / bigAugment,
          p50: bigAugment,
          p99: percentile(big.augment, 99),
          ratio: refreshMs / bigAugment,
          note: `median of ${big.augment.length}; ${(bigRefresh / bigAugment).toFixed(0)}x its refresh`,
        },
        {
          label: `augment, ${connections} connections (1,000,000 rows)`,
          rps: bigLoad.rps,
          p50: bigLoad.p50,
          p99: bigLoad.p99,
          ratio: bigLoad.rps / refreshRps,
          note: `${(bigLoad.rps / (1000 / bigRefresh)).toFixed(0)}x the throughput of its refresh`,
        },
      );
      large = `; at 1M rows ${(bigRefresh / bigAugment).toFixed(0)}x (${bigAugment.toFixed(2)} ms vs ${bigRefresh.toFixed(0)} ms)`;
      largeLoad = `; at 1M rows ${(bigLoad.rps / (1000 / bigRefresh)).toFixed(0)}x`;
    }

    // Every augment is in the value: a full recompute over the sales table agrees with it.
    // The load generator stops with augments still in flight; they finish first.
    await quiet(database.db);
    const { rows: counted } = await database.db.query<{ n: number }>(
      "select count(*)::int as n from sales",
    );
    const recorded = (counted[0]?.n ?? 0) - seeded;
    const augmented = JSON.stringify((await sequential(kck.url, [TOTALS], "KCK")).answers[0]);
    await sequential(kck.url, [REFRESH], "KCK");
    const recomputed = JSON.stringify((await sequential(kck.url, [TOTALS], "KCK")).answers[0]);
    if (augmented !== recomputed) {
      const books = (answer: string) =>
        (JSON.parse(answer) as { data: { salesTotals: { books: { bookId: number }[] } } }).data
          .salesTotals.books;
      const was = books(recomputed);
      const differ = books(augmented).filter(
        (b, i) => JSON.stringify(b) !== JSON.stringify(was[i]),
      );
      throw new Error(
        `The augmented salesTotals differs from a full recompute of it, in ${differ.length} books; the first: ${JSON.stringify(differ[0])} against ${JSON.stringify(was.find((b) => b.bookId === differ[0]?.bookId))}.`,
      );
    }
    return {
      rows,
      verdicts: [
        {
          goal: "one augment at least 1000x faster than one refresh (latency, one at a time)",
          measured: `${(refreshMs / augmentMs).toFixed(0)}x: ${augmentMs.toFixed(2)} ms vs ${refreshMs.toFixed(1)} ms${large}`,
          met: refreshMs / augmentMs >= 1000,
        },
        {
          goal: "augments at least 1000x the throughput of refreshes (many clients)",
          measured: `${(loadRps / refreshRps).toFixed(0)}x: ${Math.round(loadRps)} augments/s vs ${refreshRps.toFixed(1)} refreshes/s${largeLoad}`,
          met: loadRps / refreshRps >= 1000,
        },
      ],
      notes: [
        `ratios are to the first row; ${count(recorded)} sales recorded by augments, and the augmented value equals a full recompute`,
        "times over HTTP GraphQL from this process to the gateway's child process, each from sending to the last byte",
      ],
    };
  },
};
