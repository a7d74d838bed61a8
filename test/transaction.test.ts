import { afterAll, beforeAll, expect, it } from "vitest";
import { createDb, type Db } from "../src/db/db.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

// Db.transaction is KCK's one transaction helper, on either pool.

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, poolSize: 1, sessionPoolSize: 1 });
  await db.query("create table t (n int primary key)");
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const count = async () =>
  (await db.query<{ n: number }>("select count(*)::int as n from t")).rows[0]?.n;

it.each(["query", "session"] as const)(
  "commits, and rolls back what throws (%s pool)",
  async (pool) => {
    await db.query("truncate t");
    await db.transaction((tx) => tx.query("insert into t values (1)"), { pool });
    await expect(
      db.transaction(
        async (tx) => {
          await tx.query("insert into t values (2)");
          throw new Error("no");
        },
        { pool },
      ),
    ).rejects.toThrow("no");
    expect(await count()).toBe(1);
    // The connection went back to its pool (each holds one) and is usable.
    expect(await db.transaction(async () => "again", { pool })).toBe("again");
  },
);

it("runs on the pool it is asked for", async () => {
  const pid = (q: Pick<Db, "query">) =>
    q.query<{ pid: number }>("select pg_backend_pid() as pid").then((r) => r.rows[0]?.pid);
  // Each pool holds one connection: the session pool's is the one db.session() hands out.
  const session = await db.session();
  const sessionPid = await pid(session);
  session.release();
  expect(await db.transaction(pid, { pool: "session" })).toBe(sessionPid);
  expect(await db.transaction(pid)).not.toBe(sessionPid);
  expect(await db.transaction(pid)).toBe(await db.transaction(pid));
});
