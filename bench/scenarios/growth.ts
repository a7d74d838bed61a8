import { prefill } from "../lib/prefill.ts";
import { measureRounds } from "../lib/rounds.ts";
import { mb, pick, toRows } from "../lib/rows.ts";
import type { Scenario } from "../lib/scenario.ts";
import { seedItems } from "../lib/seed.ts";
import type { TargetSpec } from "../lib/target.ts";
import { expectAnswer } from "../lib/verify.ts";
import { oneItemBody, oneItemResponse } from "../lib/workload.ts";

/** Products in the small database. */
const SMALL = 1000;
/** The layers' entry cap of the contender whose keys spread over every stored product. */
const UNIFORM_CAP = 5000;

/**
 * Growth: the cached-product query over 1000 hot keys, with 1k and with 1M products stored (two
 * databases, measured in interleaved rounds). Target: 1M at least 0.9x the throughput of 1k,
 * and every per-instance layer capped (shown by a contender whose keys spread over all 1M).
 */
export const growth: Scenario = {
  name: "growth",
  title: "Growth: 1k vs 1M stored products",
  async run(ctx) {
    const large = ctx.settings.quick ? 20_000 : 1_000_000;
    const small = await ctx.database("small");
    const big = await ctx.database("large");
    // The working set both databases are read with (smaller under --quick, to fill it fast).
    const hotKeys = ctx.settings.quick ? 200 : SMALL;
    ctx.log(`  seeding ${SMALL} and ${large} products`);
    await seedItems(small.db, 1, SMALL);
    await seedItems(big.db, 1, large);
    const spread = (stored: number) =>
      Array.from({ length: hotKeys }, (_, n) => oneItemBody((n + 1) * (stored / hotKeys)));
    const many = large >= 1_000_000 ? `${large / 1_000_000}M` : `${large / 1000}k`;
    const hotSmall = spread(SMALL);
    const hotLarge = spread(large);
    const pickFrom = (bodies: readonly string[]) => () =>
      bodies[Math.floor(Math.random() * bodies.length)] as string;
    const cap = { maxEntries: UNIFORM_CAP };
    const layersOff = { memory: false, responseCache: false } as const;
    const contenders: { label: string; spec: TargetSpec; hot?: readonly string[] }[] = [
      { label: "KCK, 1k stored", spec: { kind: "kck", databaseUrl: small.url }, hot: hotSmall },
      { label: `KCK, ${many} stored`, spec: { kind: "kck", databaseUrl: big.url }, hot: hotLarge },
      // The database path alone, for the record (left out of --quick to keep it short).
      ...(ctx.settings.quick
        ? []
        : [
            {
              label: "KCK layers off, 1k stored",
              spec: { kind: "kck", databaseUrl: small.url, ...layersOff } as const,
              hot: hotSmall,
            },
            {
              label: `KCK layers off, ${many} stored`,
              spec: { kind: "kck", databaseUrl: big.url, ...layersOff } as const,
              hot: hotLarge,
            },
          ]),
      {
        label: `KCK, ${many} stored, keys over all, cap ${UNIFORM_CAP}`,
        spec: { kind: "kck", databaseUrl: big.url, memory: cap, responseCache: cap },
      },
      // The long-tail baseline for the row above: the same spread of keys, read by primary key.
      {
        label: `pg primary key, ${many} stored, keys over all`,
        spec: { kind: "pg-primary-key", databaseUrl: big.url },
      },
    ];
    const servers = await ctx.start(contenders);
    const sample = Math.floor(large / 3);
    await expectAnswer(servers[1]?.url ?? "", oneItemBody(sample), oneItemResponse(sample), "KCK");
    // The hot keys in every cache before the first round, however short the warm-up.
    await Promise.all(
      servers.map((server, n) => {
        const hot = contenders[n]?.hot;
        return hot ? prefill(server.url, hot) : undefined;
      }),
    );
    const measured = await measureRounds(
      ctx,
      servers.map((server, n) => {
        const { label, hot } = contenders[n] as (typeof contenders)[number];
        const nextBody = hot
          ? pickFrom(hot)
          : () => oneItemBody(1 + Math.floor(Math.random() * large));
        return { label, server, load: { nextBody } };
      }),
    );
    const reference = pick(measured, "KCK, 1k stored");
    const grown = pick(measured, `KCK, ${many} stored`);
    const uniform = pick(measured, `KCK, ${many} stored, keys over all, cap ${UNIFORM_CAP}`);
    const primaryKey = pick(measured, `pg primary key, ${many} stored, keys over all`);
    const entries = Math.max(
      uniform?.after["memoryEntries"] ?? 0,
      uniform?.after["responseEntries"] ?? 0,
    );
    const ratio = grown.rps / reference.rps;
    return {
      rows: toRows(measured, reference),
      verdicts: [
        {
          goal: `${many} stored >= 0.9x the throughput of 1k stored (${hotKeys} hot keys)`,
          measured: `${ratio.toFixed(2)}x`,
          met: ratio >= 0.9,
        },
        {
          goal: `per-instance layers capped (${UNIFORM_CAP} entries) while keys spread over all ${large.toLocaleString("en-US")}`,
          measured: `largest layer ${entries} entries (${entries === UNIFORM_CAP ? "at" : "below"} its cap); rss ${mb(uniform?.after["rss"])}`,
          met: uniform?.after["memoryEntries"] !== undefined && entries <= UNIFORM_CAP,
        },
      ],
      notes: [
        `${large.toLocaleString("en-US")} products stored in the large database`,
        `keys over all ${many}, against node:http + pg by primary key (the long-tail baseline): KCK ${(uniform.rps / primaryKey.rps).toFixed(2)}x`,
      ],
    };
  },
};
