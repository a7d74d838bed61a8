import { afterAll, beforeAll, expect, it } from "vitest";
import { createDb, type Db } from "../src/db/db.ts";
import { migrate } from "../src/db/migrate.ts";
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
