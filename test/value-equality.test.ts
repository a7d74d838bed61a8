import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.ts";
import type { Queryable } from "../src/db/db.ts";
import { defineInput, defineObject, definePrimer, param } from "../src/index.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { collect, wsClient } from "./helpers/subscribe.ts";

const computes = new Map<string, number>();
const count = (key: string) => computes.set(key, (computes.get(key) ?? 0) + 1);

interface Tally {
  label: string;
  n: number;
}

const TallyType = defineObject<Tally>("VeTally", (t) => ({
  label: t.exposeString("label"),
  n: t.exposeInt("n"),
}));

const Step = defineInput<{ by: number }>("VeStep", (t) => ({ by: t.int({ required: true }) }));

async function setup(db: Queryable): Promise<void> {
  await db.query("create table if not exists ve_tally (id text primary key, n int not null)");
  await db.query("insert into ve_tally values ('a', 1) on conflict do nothing");
}

/** Computed with `label` first; the reducer spreads the stored value, whose keys jsonb sorted. */
const tally = definePrimer({
  name: "veTally",
  params: { id: param.string() },
  type: TallyType,
  async compute({ id }, ctx) {
    count(ctx.key);
    const [row] = await ctx.sql<{ n: number }>("select n from ve_tally where id = $1", [id]);
    return { label: id, n: row?.n ?? 0 };
  },
  augment: {
    delta: Step,
    async reduce(current, { by }, ctx) {
      await ctx.sql("update ve_tally set n = n + $2 where id = $1", [ctx.params.id, by]);
      return { ...current, n: current.n + by };
    },
  },
});

const twice = definePrimer({
  name: "veTwice",
  params: { id: param.string() },
  type: "Int",
  async compute({ id }, ctx) {
    count(ctx.key);
    return (await ctx.get(tally, { id })).n * 2;
  },
});

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [tally, twice],
    setups: [setup],
    poolSize: 3,
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const settled = () =>
  expect
    .poll(
      async () =>
        (await kck.app.engine.db.query("select count(*)::int as n from graphile_worker.jobs"))
          .rows[0]?.["n"],
      { timeout: 15_000, interval: 20 },
    )
    .toBe(0);

const augment = (by: number) =>
  kck.gql<{ augmentVeTally: { version: number } }>(
    `mutation ($by: Int!) { augmentVeTally(id: "a", delta: { by: $by }) { version } }`,
    { by },
  );

describe("value equality by content", () => {
  it("serialises equal values alike whatever their key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined, 2n] })).toBe(
      '{"b":1,"c":[null,"2"]}',
    );
    expect(canonicalJson(new Date(0))).toBe(JSON.stringify(new Date(0)));
    expect(canonicalJson(undefined)).toBe("null");
    // Values with many distinct keys take the other way: the same content, the same text.
    const ids = Array.from({ length: 300 }, (_, i) => `id${i}`);
    const forward = Object.fromEntries(ids.map((id, i) => [id, { b: i, a: [{ d: 1, c: 2 }] }]));
    const backward = Object.fromEntries(
      ids.toReversed().map((id) => [id, { a: [{ c: 2, d: 1 }], b: forward[id]?.b }]),
    );
    expect(canonicalJson(backward)).toBe(canonicalJson(forward));
    expect(JSON.parse(canonicalJson(forward))).toEqual(forward);
  });

  it("does not bump the version when a refresh computes what a reducer stored", async () => {
    expect(await kck.app.engine.get(twice, { id: "a" })).toBe(2);
    expect((await augment(1)).data?.augmentVeTally.version).toBe(2);
    await settled();
    expect(await kck.app.engine.get(twice, { id: "a" })).toBe(4);
    await settled();
    const twiceComputes = computes.get("veTwice/a");

    const client = wsClient(kck.url);
    try {
      const updates = collect<{ version: number }>(
        client,
        `subscription { veTally(id: "a") { version } }`,
        "veTally",
      );
      await updates.until((values) => values.length === 1);
      // The same value, built by the compute with its keys in another order.
      const refreshed = await kck.app.engine.refresh("veTally/a");
      expect(refreshed.version).toBe(2);
      expect(computes.get("veTally/a")).toBe(2);
      await settled();
      expect(computes.get("veTwice/a")).toBe(twiceComputes);
      // A real change after it: the subscriber's next message is that one, not the refresh.
      expect((await augment(1)).data?.augmentVeTally.version).toBe(3);
      await updates.until((values) => values.length >= 2);
      expect(updates.values.map((u) => u.version)).toEqual([2, 3]);
      updates.stop();
    } finally {
      await client.dispose();
    }
  });
});
