import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../src/app.ts";
import { computed, jobPrimers, setup } from "./fixtures/jobs/primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const jobs = { pollInterval: 50, concurrency: 3, reapIntervalMs: 200, readFlushMs: 50 };
let database: TestDatabase;
let a: TestApp;
let b: TestApp;
let worker: App;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await startTestApp({ databaseUrl: database.url, primers: jobPrimers, setups: [setup], jobs });
  b = await startTestApp({ databaseUrl: database.url, primers: jobPrimers, setups: [setup], jobs });
  worker = createApp({
    databaseUrl: database.url,
    primers: jobPrimers,
    setups: [setup],
    http: false,
    jobs,
  });
  await worker.start();
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await worker?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => a.app.engine.db.query(text, values);
const pendingJobs = async () =>
  (await sql("select count(*)::int as n from graphile_worker.jobs")).rows[0]?.["n"];
const settled = () => expect.poll(pendingJobs, { timeout: 20_000, interval: 25 }).toBe(0);
// Refreshes go through the queue and the workers of three apps: on a loaded machine a chain of
// them can take longer than expect.poll's default second.
const patient = { timeout: 10_000, interval: 25 };

describe("two gateways and a worker on one database", () => {
  it("run each source-triggered refresh once, in whichever process", async () => {
    const authors = Array.from({ length: 30 }, (_, i) => 100 + i);
    await sql(
      "insert into jt_books (author_id, title) select a, 'first of ' || a from unnest($1::int[]) as a",
      [authors],
    );
    await settled();
    await Promise.all(authors.map((n, i) => (i % 2 === 0 ? a : b).app.engine.get(`titles/${n}`)));
    await settled();
    // One transaction per author, all at once, from both gateways' pools.
    await Promise.all(
      authors.map((n, i) =>
        (i % 2 === 0 ? a : b).app.engine.db.query(
          "insert into jt_books (author_id, title) values ($1, 'second')",
          [n],
        ),
      ),
    );
    for (const n of authors) {
      await expect
        .poll(async () => (await a.app.engine.inspect(`titles/${n}`))?.version, patient)
        .toBe(2);
    }
    await settled();
    expect(authors.map((n) => computed.get(`titles/${n}`))).toEqual(authors.map(() => 2));
  });

  it("propagate a change along a chain once", async () => {
    await sql("insert into jt_values (n, v) values (7, 10)");
    await settled();
    expect(await b.app.engine.get("chainC/7")).toBe(2);
    await sql("update jt_values set v = 20 where n = 7");
    await expect.poll(async () => (await a.app.engine.inspect("chainC/7"))?.value, patient).toBe(4);
    await settled();
    expect(["chainA/7", "chainB/7", "chainC/7"].map((k) => computed.get(k))).toEqual([2, 2, 2]);
  });

  it("refresh a stale product once however many reads on both gateways see it stale", async () => {
    expect(await a.app.engine.get("blink/1")).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const reads = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).app.engine.get("blink/1")),
    );
    expect(reads).toEqual(Array(40).fill(1));
    await expect
      .poll(async () => (await a.app.engine.inspect("blink/1"))?.version, patient)
      .toBe(2);
    await settled();
    expect(computed.get("blink/1")).toBe(2);
  });

  it("run each of 300 refresh jobs exactly once across three workers", async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `titles/${5000 + i}`);
    expect(await a.app.engine.prime(keys)).toEqual(keys);
    await settled();
    expect(keys.filter((key) => computed.get(key) !== 1)).toEqual([]);
    // Forced refreshes: a job that ran twice would compute twice.
    await sql("select kck.enqueue_refreshes($1::text[], 0, 5)", [keys]);
    await settled();
    expect(keys.filter((key) => computed.get(key) !== 2)).toEqual([]);
  });
});
