import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installSourceTriggers } from "../src/jobs/triggers.ts";
import { silentLogger } from "../src/logger.ts";
import { burst, computed, genreCount, hourly, setup, titles } from "./fixtures/jobs/primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;
const primers = [titles, genreCount, burst, hourly];

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({ databaseUrl: database.url, primers, setups: [setup] });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => kck.app.engine.db.query(text, values);
const product = (key: string) => kck.app.engine.inspect(key);
const pendingJobs = async () =>
  (await sql("select count(*)::int as n from graphile_worker.jobs")).rows[0]?.["n"];

/** Waits until the job queue is empty: every refresh asked for has run. */
const settled = () => expect.poll(pendingJobs, { timeout: 15_000, interval: 20 }).toBe(0);

describe("source triggers", () => {
  it("refreshes exactly the products a changed row maps to", async () => {
    await sql("insert into jt_books (author_id, title) values (1, 'A1'), (2, 'B1'), (3, 'C1')");
    // Those refreshes find nothing stored, and skip.
    await settled();
    for (const n of [1, 2, 3]) await kck.app.engine.get(`titles/${n}`);
    await settled();
    expect(computed.get("titles/1")).toBe(1);
    await sql("insert into jt_books (author_id, title) values (2, 'B2')");
    await expect.poll(async () => (await product("titles/2"))?.version).toBe(2);
    await settled();
    expect((await product("titles/2"))?.value).toEqual(["B1", "B2"]);
    expect(computed.get("titles/2")).toBe(2);
    expect(computed.get("titles/1")).toBe(1);
    expect(computed.get("titles/3")).toBe(1);
  });

  it("refreshes both the old and the new params of an UPDATE that moves a row", async () => {
    await sql("update jt_books set author_id = 3 where title = 'A1'");
    await expect.poll(async () => (await product("titles/3"))?.value).toEqual(["A1", "C1"]);
    await expect.poll(async () => (await product("titles/1"))?.value).toEqual([]);
    await settled();
    expect(computed.get("titles/2")).toBe(2);
    expect(computed.get("titles/1")).toBe(2);
    expect(computed.get("titles/3")).toBe(2);
  });

  it("refreshes on DELETE and on TRUNCATE", async () => {
    await sql("delete from jt_books where title = 'B2'");
    await expect.poll(async () => (await product("titles/2"))?.value).toEqual(["B1"]);
    await sql("truncate jt_books");
    for (const n of [1, 2, 3]) {
      await expect.poll(async () => (await product(`titles/${n}`))?.value).toEqual([]);
    }
  });

  it("adds nothing when the writer's transaction rolls back", async () => {
    await settled();
    const before = computed.get("titles/2");
    await kck.app.engine.db
      .transaction(async (tx) => {
        await tx.query("insert into jt_books (author_id, title) values (2, 'never')");
        expect(
          (await tx.query("select count(*)::int as n from graphile_worker.jobs")).rows[0],
        ).toEqual({ n: 1 });
        throw new Error("roll back");
      })
      .catch(() => {});
    expect(await pendingJobs()).toBe(0);
    expect(computed.get("titles/2")).toBe(before);
  });

  it("does not compute a product nobody asked for", async () => {
    await sql("insert into jt_books (author_id, title) values (77, 'nobody reads me')");
    await settled();
    expect(await product("titles/77")).toBeUndefined();
    expect(computed.get("titles/77")).toBeUndefined();
  });

  it("builds the canonical key of a string param in SQL, percent-encoding included", async () => {
    const genre = "sci-fi/fantasy ünï 🐉 100%";
    const key = kck.app.engine.resolve(genreCount, { genre }).key;
    expect(key).toBe(`genreCount/${encodeURIComponent(genre)}`);
    expect(await kck.app.engine.get(genreCount, { genre })).toBe(0);
    await sql("insert into jt_books (author_id, title, genre) values (5, 'X', $1)", [genre]);
    await expect.poll(async () => (await product(key))?.value).toBe(1);
    expect(computed.get(key)).toBe(2);
  });

  it("encodes exactly as encodeURIComponent does", async () => {
    const samples = ["plain", "a b", "ü", "€", "😀", "!'()*-._~", "a/b?c=d&e#f", "%41", ""];
    const { rows } = await sql("select s, kck.uri_component(s) as e from unnest($1::text[]) as s", [
      samples,
    ]);
    expect(rows.map((row) => row["e"])).toEqual(samples.map((s) => encodeURIComponent(s)));
  });

  it("refreshes a quiet product at once, and holds the next change for the refresh delay", async () => {
    expect(await kck.app.engine.get("hourly/31")).toBe(0);
    // Last computed two hours ago, as far as the queue can tell: quiet for longer than its
    // refresh delay of an hour, so a change is refreshed at once.
    await sql(
      "update kck.products set computed_at = now() - interval '2 hours' where key = 'hourly/31'",
    );
    await sql("insert into jt_hourly (author_id, n) values (31, 1)");
    await expect.poll(() => product("hourly/31").then((p) => p?.value)).toBe(1);
    await settled();
    // Computed moments ago: the next change waits an hour after that compute.
    await sql("update jt_hourly set n = 2 where author_id = 31");
    const { rows } = await sql(
      `select run_at > now() + interval '50 minutes' as later from graphile_worker.jobs
       where key = 'kck:refresh:hourly/31'`,
    );
    expect(rows).toEqual([{ later: true }]);
    await sql("select graphile_worker.remove_job('kck:refresh:hourly/31')");
    expect(computed.get("hourly/31")).toBe(2);
  });

  it("folds a burst of 1000 changes to one author's rows into a handful of refreshes", async () => {
    await sql("insert into jt_burst (author_id, n) select 9, 1 from generate_series(1, 10)");
    expect(await kck.app.engine.get("burst/9")).toBe(10);
    const before = computed.get("burst/9") ?? 0;
    const started = Date.now();
    // 1000 separate transactions from 5 connections at once, each changing one row.
    await Promise.all(
      Array.from({ length: 5 }, async (_, lane) => {
        for (let i = 0; i < 200; i++) {
          await sql("update jt_burst set n = n + 1 where id = $1", [1 + ((lane * 200 + i) % 10)]);
        }
      }),
    );
    const burstMs = Date.now() - started;
    await expect.poll(() => kck.app.engine.inspect("burst/9").then((p) => p?.value)).toBe(1010);
    await settled();
    const refreshes = (computed.get("burst/9") ?? 0) - before;
    // At most one refresh starts per 300 ms of burst (the first at once), plus the one
    // waiting when it ended.
    expect(refreshes).toBeGreaterThanOrEqual(1);
    expect(refreshes).toBeLessThanOrEqual(Math.ceil(burstMs / 300) + 2);
    expect(refreshes).toBeLessThan(100);
  });

  it("installs triggers idempotently: a second start changes nothing", async () => {
    expect(await installSourceTriggers(kck.app.engine.db, primers, silentLogger(), "test")).toEqual(
      [],
    );
    const { rows } = await sql(
      "select count(*)::int as n from pg_trigger where tgname like 'kck_src_%'",
    );
    // Four per primer (insert, update, delete, truncate), each with one source table.
    expect(rows[0]).toEqual({ n: 4 * primers.length });
  });
});
