import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDb, type Db } from "../src/db/db.ts";
import { migrate } from "../src/sql/migrate.ts";
import { startWorkerChild } from "./helpers/child.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

it("applies each migration once when several processes migrate at the same moment", async () => {
  const dbs = Array.from({ length: 4 }, () =>
    createDb({ url: database.url, poolSize: 2, sessionPoolSize: 1 }),
  );
  try {
    const applied = await Promise.all(dbs.map((db) => migrate(db)));
    // Exactly one of the four applied each migration; the others found it recorded.
    const all = applied.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain("000001-products.sql");
    const db = dbs[0] as Db;
    const { rows } = await db.query<{ id: number }>("select id from kck.migrations order by id");
    expect(rows.map((r) => r.id)).toEqual(
      [...new Set(all)].map((name) => Number(name.slice(0, 6))).sort((a, b) => a - b),
    );
    expect(await migrate(db)).toEqual([]);
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
  }
});

it("starts two processes at once on a fresh database: both serve, each migration applied once", async () => {
  const fresh = await createTestDatabase();
  const env = {
    DATABASE_URL: fresh.url,
    KCK_PRIMERS_DIR: "test/fixtures/jobs",
    KCK_WORKER_CONCURRENCY: "1",
  };
  const starting = [startWorkerChild(env), startWorkerChild(env)];
  const workers = (await Promise.allSettled(starting)).map((result) =>
    result.status === "fulfilled" ? result.value : undefined,
  );
  const db = createDb({ url: fresh.url, poolSize: 1, sessionPoolSize: 1 });
  try {
    expect(workers.map((worker) => worker !== undefined)).toEqual([true, true]);
    // KCK's migrations, graphile-worker's, the modules' setups and the source triggers: each
    // once, none of them failing the other process's start.
    const kck = await db.query<{ id: number }>("select id from kck.migrations order by id");
    const files = (await readdir("src/db/migrations")).filter((f) => /^\d{6}-.+\.sql$/.test(f));
    expect(kck.rows.map((r) => r.id)).toEqual(
      files.map((f) => Number(f.slice(0, 6))).sort((a, b) => a - b),
    );
    const queue = await db.query<{ n: number; distinct: number }>(
      "select count(*)::int as n, count(distinct id)::int as distinct from graphile_worker.migrations",
    );
    expect(queue.rows[0]?.n).toBe(queue.rows[0]?.distinct);
    expect(queue.rows[0]?.n).toBeGreaterThan(0);
    const triggers = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_trigger
       where tgrelid = 'jt_books'::regclass and not tgisinternal`,
    );
    // Four per primer that reads jt_books (titles and genreCount).
    expect(triggers.rows[0]?.n).toBe(8);
    for (const worker of workers) worker?.process.kill("SIGTERM");
    expect(await Promise.all(workers.map((worker) => worker?.exited))).toEqual([0, 0]);
  } finally {
    for (const worker of workers) worker?.process.kill("SIGKILL");
    await db.close();
    await fresh.drop();
  }
});
