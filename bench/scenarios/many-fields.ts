import { measureRounds } from "../lib/rounds.ts";
import { pick, toRows } from "../lib/rows.ts";
import type { Scenario } from "../lib/scenario.ts";
import { seedItems } from "../lib/seed.ts";
import type { TargetSpec } from "../lib/target.ts";
import { expectAnswer } from "../lib/verify.ts";
import { manyItemsBody, manyItemsResponse } from "../lib/workload.ts";

const FIELDS = 100;

/**
 * One operation with 100 product fields: KCK must read them with one SQL statement, and serve
 * at least half the keys per second of node:http over raw `pg` with one `= ANY($1)` SELECT.
 */
export const manyFields: Scenario = {
  name: "many-fields",
  title: "One operation with 100 product fields",
  async run(ctx) {
    const database = await ctx.database("main");
    await seedItems(database.db, 1, 1000);
    const ids = Array.from({ length: FIELDS }, (_, n) => 101 + n * 7);
    const body = manyItemsBody(ids);
    const expected = manyItemsResponse(ids);
    const url = database.url;
    const specs: { label: string; spec: TargetSpec }[] = [
      { label: "pg = ANY($1) (node:http)", spec: { kind: "pg-any", databaseUrl: url } },
      { label: "yoga constant", spec: { kind: "yoga-constant" } },
      { label: "KCK", spec: { kind: "kck", databaseUrl: url } },
      {
        label: "KCK, memory layer only",
        spec: { kind: "kck", databaseUrl: url, responseCache: false },
      },
      {
        label: "KCK, layers off",
        spec: { kind: "kck", databaseUrl: url, memory: false, responseCache: false },
      },
    ];
    const servers = await ctx.start(specs);
    // SQL statements of the very first operation on each KCK (nothing in memory yet).
    const firstReads: number[] = [];
    for (const [n, server] of servers.entries()) {
      const before = (await server.stats())["statements"];
      await expectAnswer(server.url, body, expected, specs[n]?.label ?? "");
      const after = (await server.stats())["statements"];
      if (specs[n]?.spec.kind === "kck") firstReads.push((after ?? 0) - (before ?? 0));
    }
    // And three operations in a row on KCK with its layers off, once warm: one read each.
    const offServer = servers[4];
    const offBefore = (await offServer?.stats())?.["statements"] ?? 0;
    for (let n = 0; n < 3; n++)
      await expectAnswer(offServer?.url ?? "", body, expected, "KCK, layers off");
    const offReads = (((await offServer?.stats())?.["statements"] ?? 0) - offBefore) / 3;
    const measured = await measureRounds(
      ctx,
      servers.map((server, n) => ({ label: specs[n]?.label ?? "", server, load: { body } })),
    );
    const reference = pick(measured, "pg = ANY($1) (node:http)");
    const kck = pick(measured, "KCK");
    const off = pick(measured, "KCK, layers off");
    return {
      rows: toRows(measured, reference, { count: FIELDS, unit: "keys" }),
      verdicts: [
        {
          goal: "one SQL read for the operation's 100 products",
          measured: `first operation: ${firstReads.join(" and ")} statement(s); layers off, warm: ${offReads} per operation`,
          met: firstReads.every((n) => n === 1) && offReads === 1,
        },
        {
          goal: "KCK keys/s >= 0.5x raw pg = ANY($1)",
          measured: `${(kck.rps / reference.rps).toFixed(2)}x`,
          met: kck.rps / reference.rps >= 0.5,
        },
      ],
      notes: [
        `with its layers off (one SQL read and a GraphQL execution of 800 fields per operation) KCK serves ${(off.rps / reference.rps).toFixed(2)}x; yoga returning constants serves ${(pick(measured, "yoga constant").rps / reference.rps).toFixed(2)}x: executing the operation, not the read, is what costs`,
      ],
    };
  },
};
