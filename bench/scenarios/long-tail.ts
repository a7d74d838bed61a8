import type { Measured } from "../lib/rounds.ts";
import { measureRounds } from "../lib/rounds.ts";
import { pick, toRows } from "../lib/rows.ts";
import type { Scenario } from "../lib/scenario.ts";
import { seedItems } from "../lib/seed.ts";
import type { TargetSpec } from "../lib/target.ts";
import { expectAnswer } from "../lib/verify.ts";
import { oneItemBody, oneItemResponse } from "../lib/workload.ts";

/** The baseline: node:http + pg reading the row by primary key, the same JSON back. */
const BASELINE = "pg primary key (node:http)";

/** The ids 1..n in a random order (Fisher-Yates, seeded so runs read alike). */
function shuffled(n: number, seed: number): Int32Array {
  const ids = Int32Array.from({ length: n }, (_, i) => i + 1);
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = ids[i] as number;
    ids[i] = ids[j] as number;
    ids[j] = swap;
  }
  return ids;
}

/**
 * Long tail: every stored product read once, in random order, by a KCK that has just started
 * (nothing in its per-instance layers), against node:http + pg reading the same row by primary
 * key. Target: KCK at least 0.5x the baseline's throughput; stretch 1x.
 */
export const longTail: Scenario = {
  name: "long-tail",
  title: "Long tail: each stored product read once, after a restart",
  async run(ctx) {
    const stored = ctx.settings.quick ? 20_000 : 400_000;
    const database = await ctx.database("main");
    ctx.log(`  seeding ${stored} products`);
    await seedItems(database.db, 1, stored);
    const url = database.url;
    const specs: { label: string; spec: TargetSpec }[] = [
      { label: BASELINE, spec: { kind: "pg-primary-key", databaseUrl: url } },
      { label: "yoga constant", spec: { kind: "yoga-constant" } },
      { label: "KCK", spec: { kind: "kck", databaseUrl: url } },
    ];
    const servers = await ctx.start(specs);
    // Each target reads the keys in its own order, each key once (until it has read them all).
    const orders = servers.map((_, n) => shuffled(stored, 7 + n));
    const cursors = servers.map(() => 0);
    const next = (n: number) => () => {
      const order = orders[n] as Int32Array;
      const at = (cursors[n] as number) % stored;
      cursors[n] = (cursors[n] as number) + 1;
      return oneItemBody(order[at] as number);
    };
    // The check reads the last key of each order, the one read last (if ever).
    await Promise.all(
      servers.map((server, n) => {
        const id = (orders[n] as Int32Array)[stored - 1] as number;
        return expectAnswer(
          server.url,
          oneItemBody(id),
          oneItemResponse(id),
          specs[n]?.label ?? "",
        );
      }),
    );
    const measured = await measureRounds(
      ctx,
      servers.map((server, n) => ({
        label: specs[n]?.label ?? "",
        server,
        load: { nextBody: next(n) },
      })),
    );
    const reference = pick(measured, BASELINE);
    const kck = pick(measured, "KCK");
    const ratio = kck.rps / reference.rps;
    const kckIndex = specs.findIndex((s) => s.label === "KCK");
    const read = cursors[kckIndex] as number;
    return {
      rows: toRows(measured, reference),
      verdicts: [
        {
          goal: `KCK throughput >= 0.5x ${BASELINE}, each key read once`,
          measured: `${ratio.toFixed(2)}x`,
          met: ratio >= 0.5,
        },
        {
          goal: `stretch: KCK throughput >= 1x ${BASELINE}`,
          measured: `${ratio.toFixed(2)}x`,
          met: ratio >= 1,
        },
      ],
      notes: [
        `${stored.toLocaleString("en-US")} products stored; KCK was sent ${read.toLocaleString("en-US")} requests (warm-up included)${read > stored ? ": more than the keys, so some were read twice" : ", each key at most once"}`,
        `SQL/op below 1 means reads were shared: ${sqlPerOp(kck)}`,
        `server CPU per request (the server process only, not PostgreSQL): ${measured.map((m) => `${m.label} ${cpuPerOp(m)}`).join(", ")}`,
      ],
    };
  },
};

function cpuPerOp(m: Measured): string {
  const cpu = m.delta["cpuMs"];
  return cpu === undefined ? "-" : `${Math.round((1000 * cpu) / m.requests)} µs`;
}

function sqlPerOp(m: Measured): string {
  const statements = m.delta["statements"];
  return statements === undefined ? "-" : (statements / m.requests).toFixed(2);
}
