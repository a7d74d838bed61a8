import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePrimer, param } from "../src/index.ts";
import { computed, flakyJob, knobs, setup } from "./fixtures/jobs/primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const count = (key: string) => computed.set(key, (computed.get(key) ?? 0) + 1).get(key) ?? 0;

/** Refreshed every 150 ms, only where read within the last hour. */
const ticker = definePrimer({
  name: "ticker",
  params: { id: param.int() },
  type: "Int",
  schedule: { every: 150, readWithin: "1h" },
  compute: (_params, ctx) => count(ctx.key),
});

/** Refreshed every 150 ms for every author id in jt_domain, read or not. */
const warm = definePrimer({
  name: "warm",
  params: { authorId: param.int() },
  type: "Int",
  schedule: {
    every: 150,
    domain: (ctx) => ctx.sql<{ authorId: number }>('select author_id as "authorId" from jt_domain'),
  },
  compute: ({ authorId }, ctx) => {
    count(ctx.key);
    return authorId * 10;
  },
});

/** On a cron schedule (too slow to wait for in a test: its registration is checked). */
const hourly = definePrimer({
  name: "hourly",
  params: {},
  type: "Int",
  schedule: { cron: "0 * * * *" },
  compute: (_params, ctx) => count(ctx.key),
});

/** Reading page n hints that pages n+1 and n+2 come next. */
const page = definePrimer({
  name: "page",
  params: { n: param.int() },
  type: "Int",
  hints: ({ n }) => [{ n: n + 1 }, `page/${n + 2}`],
  compute: ({ n }, ctx) => {
    count(ctx.key);
    return n;
  },
});

const primers = [ticker, warm, hourly, page, flakyJob];
let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({ databaseUrl: database.url, primers, setups: [setup] });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => kck.app.engine.db.query(text, values);
const pendingRefreshes = async () =>
  (
    await sql(
      "select count(*)::int as n from graphile_worker.jobs where key like 'kck:refresh:flakyJob/%'",
    )
  ).rows[0]?.["n"];
const computeCount = async (key: string) => (await kck.app.engine.inspect(key))?.computeCount;

describe("schedules", () => {
  it("refreshes on an interval the products read within the window, and only those", async () => {
    await kck.app.engine.get("ticker/1");
    // Stored, but never read: refresh() does not count as a read.
    await kck.app.engine.refresh("ticker/2");
    await kck.app.jobs.flush();
    const { rows } = await sql("select key from kck.products where read_at is not null");
    expect(rows).toEqual([{ key: "ticker/1" }]);
    const before = (await computeCount("ticker/1")) ?? 0;
    await expect
      .poll(() => computeCount("ticker/1"), { timeout: 10_000 })
      .toBeGreaterThan(before + 2);
    expect(await computeCount("ticker/2")).toBe(1);
  });

  it("warms a declared domain of params, read or not", async () => {
    await sql("insert into jt_domain (author_id) values (1), (2), (3)");
    for (const n of [1, 2, 3]) {
      await expect
        .poll(async () => (await kck.app.engine.inspect(`warm/${n}`))?.value)
        .toBe(n * 10);
    }
    await sql("insert into jt_domain (author_id) values (4)");
    await expect.poll(async () => (await kck.app.engine.inspect("warm/4"))?.value).toBe(40);
    await expect.poll(() => computeCount("warm/1")).toBeGreaterThan(1);
  });

  it("keeps one schedule job per primer however many processes start", async () => {
    const other = await startTestApp({ databaseUrl: database.url, primers, setups: [setup] });
    try {
      const { rows } = await sql(
        "select key, count(*)::int as n from graphile_worker.jobs where key like 'kck:schedule:%' group by key order by key",
      );
      expect(rows).toEqual([
        { key: "kck:schedule:ticker", n: 1 },
        { key: "kck:schedule:warm", n: 1 },
      ]);
    } finally {
      await other.stop();
    }
  });

  it("registers cron schedules with graphile-worker, and rejects a bad cron expression", async () => {
    const { rows } = await sql(
      "select identifier from graphile_worker._private_known_crontabs order by identifier",
    );
    expect(rows).toEqual([{ identifier: "kck:cron:hourly" }]);
    const bad = definePrimer({
      name: "bad",
      params: {},
      type: "Int",
      schedule: { cron: "every hour" },
      compute: () => 1,
    });
    const other = await createTestDatabase();
    try {
      await expect(startTestApp({ databaseUrl: other.url, primers: [bad] })).rejects.toThrow(
        /Primer "bad" has schedule.cron "every hour", which is not a valid cron expression/,
      );
    } finally {
      await other.drop();
    }
  });
});

describe("priming", () => {
  it("primes what a primer hints at after a read, once", async () => {
    for (let i = 0; i < 10; i++) await kck.app.engine.get("page/1");
    await expect.poll(() => computeCount("page/2")).toBe(1);
    await expect.poll(() => computeCount("page/3")).toBe(1);
    expect(computed.get("page/2")).toBe(1);
    expect(computed.get("page/3")).toBe(1);
  });

  it("prime(keys) enqueues jobs and returns the canonical keys", async () => {
    const { data } = await kck.gql<{ prime: string[] }>(
      'mutation { prime(keys: ["warm/%37", "ticker/70"]) }',
    );
    expect(data?.prime).toEqual(["warm/7", "ticker/70"]);
    await expect.poll(async () => (await kck.app.engine.inspect("warm/7"))?.value).toBe(70);
    await expect.poll(() => computeCount("ticker/70")).toBe(1);
  });
});

describe("retries", () => {
  const meta = async () =>
    (
      await kck.gql<{ product: Record<string, unknown> }>(
        `{ product(key: "flakyJob/1") { value version lastError
           refreshJob { task status attempts maxAttempts lastError runAt } } }`,
      )
    ).data?.product;

  it("retries a failed refresh with backoff, serving the last good value and showing the failure", async () => {
    await sql("insert into jt_values (n, v) values (1, 1)");
    await expect.poll(pendingRefreshes).toBe(0);
    const good = await kck.app.engine.get("flakyJob/1");
    expect(good).toBe("ok 1 #1");
    knobs.failFlaky = true;
    try {
      await sql("update jt_values set v = 2 where n = 1");
      await expect.poll(meta).toMatchObject({
        value: good,
        version: 1,
        lastError: "Computing flakyJob/1 failed: flaky 1 is down",
        refreshJob: {
          task: "kck_refresh",
          status: "RETRYING",
          attempts: 1,
          maxAttempts: 3,
          lastError: expect.stringContaining("flaky 1 is down"),
        },
      });
      const { refreshJob } = (await meta()) as { refreshJob: { runAt: string } };
      // Backoff: the retry waits (about e^1 seconds after the first failure).
      expect(new Date(refreshJob.runAt).getTime()).toBeGreaterThan(Date.now() + 500);
      expect(await kck.app.engine.get("flakyJob/1")).toBe(good);
    } finally {
      knobs.failFlaky = false;
    }
    await expect
      .poll(meta, { timeout: 15_000 })
      .toMatchObject({ version: 2, lastError: null, refreshJob: null });
  });
});
