import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Session } from "../src/db/db.ts";
import { definePrimer, param } from "../src/index.ts";
import { evictProducts } from "../src/jobs/evict.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { wsClient } from "./helpers/subscribe.ts";

const computes = new Map<string, number>();
const counted = (key: string) => computes.set(key, (computes.get(key) ?? 0) + 1);

/** At most five kept. */
const leaf = definePrimer({
  name: "leaf",
  params: { n: param.int() },
  type: "Int",
  store: { maxProducts: 5, evictAfter: "1d" },
  compute: ({ n }, ctx) => {
    counted(ctx.key);
    return n;
  },
});

/** Evicted an hour after its last read. */
const hourly = definePrimer({
  name: "hourly",
  params: { n: param.int() },
  type: "Int",
  store: { evictAfter: "1h" },
  compute: ({ n }) => n,
});

/** Read by `parent`. */
const child = definePrimer({
  name: "child",
  params: { n: param.int() },
  type: "Int",
  store: { maxProducts: 1 },
  compute: ({ n }) => n * 2,
});

const parent = definePrimer({
  name: "parent",
  params: { n: param.int() },
  type: "Int",
  store: { evictAfter: "1h" },
  compute: async ({ n }, ctx) => {
    counted(ctx.key);
    return (await ctx.get(child, { n })) + 1;
  },
});

/** Fails, or says it does not exist: rows with no value. */
const failing = definePrimer({
  name: "failing",
  params: { n: param.int() },
  type: "Int",
  compute: ({ n }, ctx) => {
    if (n > 100) return ctx.notFound();
    throw new Error("the source is down");
  },
});

const primers = [leaf, hourly, child, parent, failing];
let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  // Eviction runs only when the tests say so here.
  kck = await startTestApp({
    databaseUrl: database.url,
    primers,
    store: false,
    jobs: { worker: false },
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => kck.app.engine.db.query(text, values);
const keysOf = async (primer: string) =>
  (await sql("select key from kck.products where primer = $1 order by key", [primer])).rows.map(
    (row) => row["key"],
  );
const evict = () => evictProducts(kck.app.engine.db, kck.app.engine.primers.values());
/** Makes a product look used `hours` ago (instead of waiting for it). */
const age = async (key: string, hours: number, app = kck) => {
  // Read times noted so far are written first, or they would overwrite this one.
  await app.app.jobs.flush();
  await sql(
    `update kck.products set read_at = now() - make_interval(hours => $2),
       computed_at = computed_at - make_interval(hours => $2), updated_at = now() - make_interval(hours => $2)
     where key = $1`,
    [key, hours],
  );
};

describe("eviction", () => {
  it("keeps at most maxProducts of a primer, the most recently read", async () => {
    for (let n = 1; n <= 8; n++) await kck.app.engine.get(`leaf/${n}`);
    // Read order: 1 and 2 were read last.
    for (let n = 3; n <= 8; n++) await age(`leaf/${n}`, 10 - n);
    expect(await evict()).toMatchObject({ leaf: 3 });
    expect(await keysOf("leaf")).toEqual(["leaf/1", "leaf/2", "leaf/6", "leaf/7", "leaf/8"]);
  });

  it("evicts products unread past evictAfter, and rows with no value past the failure TTL", async () => {
    await kck.app.engine.get("hourly/1");
    await kck.app.engine.get("hourly/2");
    await age("hourly/1", 2);
    for (const n of [1, 2, 101, 102]) await kck.gql(`{ failing(n: ${n}) }`);
    await age("failing/1", 1);
    await age("failing/101", 1);
    await evict();
    expect(await keysOf("hourly")).toEqual(["hourly/2"]);
    // A failure or a NOT_FOUND an hour old goes; one just written stays.
    expect(await keysOf("failing")).toEqual(["failing/102", "failing/2"]);
  });

  it("never takes a product being computed or one that a stored product read", async () => {
    await kck.app.engine.get("parent/1");
    await kck.app.engine.get("child/2");
    await age("child/1", 5);
    await age("parent/1", 5);
    await age("child/2", 4);
    await age("leaf/1", 30);
    // As a compute does, another session holds leaf/1's compute lock.
    const session: Session = await kck.app.engine.db.session();
    try {
      await session.query("select pg_advisory_lock(hashtextextended('leaf/1', 0))");
      await evict();
      expect(await keysOf("leaf")).toContain("leaf/1");
      // parent/1 was unread for 5 h (past its hour) and goes; child/1, which it read, had to
      // stay until then, so child/2 (the only other) went for maxProducts 1.
      expect(await keysOf("parent")).toEqual([]);
      expect(await keysOf("child")).toEqual(["child/1"]);
      // Its edges went with it.
      expect((await sql("select * from kck.dependencies")).rows).toEqual([]);
      await session.query("select pg_advisory_unlock(hashtextextended('leaf/1', 0))");
    } finally {
      session.release();
    }
    await evict();
    expect(await keysOf("leaf")).not.toContain("leaf/1");
    // A dependent computed again records its edge again.
    const before = computes.get("parent/1") ?? 0;
    expect(await kck.app.engine.get("parent/1")).toBe(3);
    expect(computes.get("parent/1")).toBe(before + 1);
    expect(await kck.app.engine.edges("parent/1")).toEqual({
      dependencies: ["child/1"],
      dependents: [],
    });
  });

  it("tells every instance, so that none serves an evicted product from memory", async () => {
    const before = computes.get("leaf/2") ?? 0;
    expect((await kck.gql("{ leaf(n: 2) }")).data).toEqual({ leaf: 2 });
    expect(kck.app.engine.memory?.peek("leaf/2")).toBeDefined();
    await age("leaf/2", 100);
    await evict();
    expect(await keysOf("leaf")).not.toContain("leaf/2");
    await expect.poll(() => kck.app.engine.memory?.peek("leaf/2")).toBeUndefined();
    expect((await kck.gql("{ leaf(n: 2) }")).data).toEqual({ leaf: 2 });
    expect(computes.get("leaf/2")).toBe(before + 1);
  });
});

describe("the eviction job", () => {
  let worker: TestApp;
  beforeAll(async () => {
    worker = await startTestApp({
      databaseUrl: database.url,
      primers,
      store: { evictIntervalMs: 200 },
    });
  });
  afterAll(() => worker?.stop());

  it("runs in the background and leaves subscribed products alone", async () => {
    const client = wsClient(worker.url);
    const seen: unknown[] = [];
    const stop = client.subscribe(
      { query: "subscription { leaf(n: 40) { version value } }" },
      { next: (message) => void seen.push(message), error: () => {}, complete: () => {} },
    );
    try {
      await expect.poll(() => seen.length).toBe(1);
      // Pinned by its subscriber, then made the least recently read of all.
      await expect
        .poll(
          async () =>
            (
              await sql(
                "select pinned_until > now() as pinned from kck.products where key = 'leaf/40'",
              )
            ).rows[0]?.["pinned"],
        )
        .toBe(true);
      await age("leaf/40", 1000, worker);
      for (let n = 41; n <= 50; n++) await worker.app.engine.get(`leaf/${n}`);
      await expect.poll(async () => (await keysOf("leaf")).length, { timeout: 10_000 }).toBe(5);
      expect(await keysOf("leaf")).toContain("leaf/40");
    } finally {
      stop();
      await client.dispose();
    }
  });
});
