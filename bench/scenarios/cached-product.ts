import { measureRounds } from "../lib/rounds.ts";
import { pick, toRows } from "../lib/rows.ts";
import type { Scenario } from "../lib/scenario.ts";
import { seedItems } from "../lib/seed.ts";
import type { TargetSpec } from "../lib/target.ts";
import { expectAnswer } from "../lib/verify.ts";
import { oneItemBody, oneItemResponse } from "../lib/workload.ts";

/**
 * Cached product, one field: the same one-field query on one stored, fresh product, again and
 * again. Targets: at least 1.0x yoga returning a constant, p99 no worse; stretch 2x.
 */
export const cachedProduct: Scenario = {
  name: "cached-product",
  title: "Cached product, one field",
  async run(ctx) {
    const database = await ctx.database("main");
    await seedItems(database.db, 1, 1000);
    const body = oneItemBody(1);
    const expected = oneItemResponse(1);
    const url = database.url;
    const specs: { label: string; spec: TargetSpec }[] = [
      { label: "node:http constant", spec: { kind: "node-http", body: expected } },
      { label: "yoga constant", spec: { kind: "yoga-constant" } },
      { label: "yoga + response cache", spec: { kind: "yoga-response-cache" } },
      { label: "pg primary key (node:http)", spec: { kind: "pg-primary-key", databaseUrl: url } },
      { label: "KCK", spec: { kind: "kck", databaseUrl: url } },
      {
        label: "KCK, layers off",
        spec: { kind: "kck", databaseUrl: url, memory: false, responseCache: false },
      },
    ];
    const servers = await ctx.start(specs);
    await Promise.all(
      servers.map((server, n) => expectAnswer(server.url, body, expected, specs[n]?.label ?? "")),
    );
    const measured = await measureRounds(
      ctx,
      servers.map((server, n) => ({ label: specs[n]?.label ?? "", server, load: { body } })),
    );
    const reference = pick(measured, "yoga constant");
    const kck = pick(measured, "KCK");
    const ratio = kck.rps / reference.rps;
    return {
      rows: toRows(measured, reference),
      verdicts: [
        {
          goal: "KCK throughput >= 1.0x yoga constant",
          measured: `${ratio.toFixed(2)}x`,
          met: ratio >= 1,
        },
        {
          goal: "KCK p99 no worse than yoga constant",
          measured: `${kck.p99} ms vs ${reference.p99} ms`,
          met: kck.p99 <= reference.p99,
        },
        {
          goal: "stretch: KCK throughput >= 2x yoga constant",
          measured: `${ratio.toFixed(2)}x`,
          met: ratio >= 2,
        },
      ],
      notes: [
        "a hit should pay neither a database round trip nor yoga's whole pipeline: see SQL/op",
      ],
    };
  },
};
