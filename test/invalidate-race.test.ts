import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePrimer, param } from "../src/index.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

/** Holds a compute after it read its data, until `open()`; counts computes. */
const gate = {
  closed: false,
  computes: 0,
  reads: [] as number[],
  waiting: [] as (() => void)[],
  open() {
    this.closed = false;
    for (const go of this.waiting.splice(0)) go();
  },
};

/** A value read from race_values, fresh for an hour: only an invalidation brings news. */
const reading = definePrimer({
  name: "reading",
  params: { id: param.int() },
  type: "Int",
  fresh: "1h",
  async compute({ id }, ctx) {
    gate.computes++;
    const [row] = await ctx.sql<{ v: number }>("select v from race_values where id = $1", [id]);
    gate.reads.push(row?.v ?? 0);
    if (gate.closed) await new Promise<void>((go) => gate.waiting.push(go));
    return row?.v ?? 0;
  },
});

let database: TestDatabase;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  const setups = [
    async (db: { query(text: string): Promise<unknown> }) => {
      await db.query("create table if not exists race_values (id int primary key, v int not null)");
    },
  ];
  a = await startTestApp({ databaseUrl: database.url, primers: [reading], setups });
  b = await startTestApp({ databaseUrl: database.url, primers: [reading], setups });
});

afterAll(async () => {
  gate.open();
  await a?.stop();
  await b?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => a.app.engine.db.query(text, values);

describe("an invalidation that arrives while the product is being computed", () => {
  it("is not lost: the value computed from older data is stored expired, and the next read recomputes", async () => {
    await sql("insert into race_values (id, v) values (1, 10)");
    expect(await a.app.engine.get("reading/1")).toBe(10);

    // A forced refresh on A reads v = 10, then waits at the gate.
    gate.closed = true;
    const refresh = a.app.engine.refresh("reading/1");
    await expect.poll(() => gate.waiting.length).toBe(1);
    expect(gate.reads.at(-1)).toBe(10);
    // Meanwhile the source changes and B invalidates the product.
    await sql("update race_values set v = 20 where id = 1");
    const invalidated = await b.app.engine.invalidate("reading/1");
    expect(invalidated?.invalidations).toBe(1);
    gate.open();
    const stored = await refresh;

    // What the refresh stored predates the invalidation: it must not count as fresh.
    expect(stored.value).toBe(10);
    expect(stored.freshUntil?.getTime()).toBeLessThanOrEqual(Date.now());
    const computes = gate.computes;
    expect(await b.app.engine.get("reading/1")).toBe(20);
    expect(gate.computes).toBe(computes + 1);
    // And once recomputed after the invalidation, it is fresh again.
    const meta = await a.app.engine.inspect("reading/1");
    expect(meta?.value).toBe(20);
    expect(meta?.freshUntil?.getTime()).toBeGreaterThan(Date.now());
  });

  it("leaves a compute that saw no invalidation fresh", async () => {
    await sql("insert into race_values (id, v) values (2, 5)");
    expect(await a.app.engine.get("reading/2")).toBe(5);
    await b.app.engine.invalidate("reading/2");
    // The invalidation came before this compute took its lock: nothing to hold against it.
    const stored = await a.app.engine.refresh("reading/2");
    expect(stored.value).toBe(5);
    expect(stored.freshUntil?.getTime()).toBeGreaterThan(Date.now());
  });
});
