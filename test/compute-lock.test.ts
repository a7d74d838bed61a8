import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db, Session } from "../src/db/db.ts";
import { Engine } from "../src/engine/engine.ts";
import { SharedSession } from "../src/engine/flight.ts";
import { LockReleases } from "../src/engine/key-lock.ts";
import { PreLocks } from "../src/engine/pre-locks.ts";
import { definePrimer, param } from "../src/index.ts";
import { tryLock, unlock } from "../src/sql/locks.ts";
import { migrate } from "../src/sql/migrate.ts";
import { readOrLock, tryLockThenRead } from "../src/sql/products.ts";
import { calls, control, fixturePrimers } from "./fixtures/counting.ts";
import { createTestDatabase, type TestDatabase, testDb } from "./helpers/db.ts";

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = testDb(database.url);
  await migrate(db);
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const store = (key: string, q: { query: Db["query"] } = db) =>
  q.query(
    `insert into kck.products (key, primer, params, value, hash, version, computed_at)
     values ($1, 'square', '{}', '{"n":1}', 'h', 1, now())`,
    [key],
  );

/** Resolves once `session` waits for a lock (seen in pg_stat_activity by its backend pid). */
async function waitingForLock(pid: number): Promise<void> {
  for (;;) {
    const { rows } = await db.query<{ waiting: boolean }>(
      "select wait_event_type = 'Lock' as waiting from pg_stat_activity where pid = $1",
      [pid],
    );
    if (rows[0]?.waiting) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function backendPid(session: Session): Promise<number> {
  const { rows } = await session.query<{ pid: number }>("select pg_backend_pid() as pid");
  return (rows[0] as { pid: number }).pid;
}

it("takes the compute lock and reads the row in one round trip, or neither", async () => {
  const holder = await db.session();
  const other = await db.session();
  try {
    expect(await tryLock(holder, "square/1")).toBe(true);
    expect(await tryLockThenRead(other, "square/1")).toEqual({ locked: false, product: undefined });
    await store("square/1", holder);
    await unlock(holder, "square/1");
    const taken = await tryLockThenRead(other, "square/1");
    expect(taken.locked).toBe(true);
    expect(taken.product).toMatchObject({ key: "square/1", value: { n: 1 }, version: 1 });
    // The lock is the compute lock: nobody else gets it until it is let go.
    expect(await tryLock(holder, "square/1")).toBe(false);
    await unlock(other, "square/1");
    expect(await tryLockThenRead(holder, "square/2")).toEqual({ locked: true, product: undefined });
    await unlock(holder, "square/2");
  } finally {
    holder.release();
    other.release();
  }
});

it("reads under the lock what the previous holder committed after the statement began", async () => {
  // The statement begins (and takes its snapshot) while another session holds the key's lock,
  // waits for it, and only then reaches the lock-and-read; the previous holder stores the value
  // and lets go in between. A read in the statement itself would not see the value.
  const holder = await db.session();
  const reader = await db.session();
  try {
    for (const [key, read] of [
      ["square/3", "(select count(*)::int from kck.products where key = $1) as seen"],
      [
        "square/4",
        "(select count(*)::int from kck.lock_and_read($1) l where (l.product).key = $1) as seen",
      ],
    ] as const) {
      expect(await tryLock(holder, key)).toBe(true);
      const pid = await backendPid(reader);
      const answer = reader.query<{ seen: number }>(
        `with waited as materialized (
           select pg_advisory_lock(hashtextextended($1, 0)), pg_advisory_unlock(hashtextextended($1, 0)))
         select ${read} from waited`,
        [key],
      );
      await waitingForLock(pid);
      await store(key, holder);
      await unlock(holder, key);
      const { rows } = await answer;
      expect({ key, seen: rows[0]?.seen }).toEqual({ key, seen: key === "square/3" ? 0 : 1 });
      await reader.query("select pg_advisory_unlock_all()");
    }
  } finally {
    holder.release();
    reader.release();
  }
});

it("lets go of a compute's lock after its callers have the value, and a compute right after waits for it", async () => {
  const engine = await Engine.start({ db, primers: fixturePrimers });
  try {
    calls.clear();
    // Each compute starts the moment the one before resolved, while its unlock may be under way.
    expect(await engine.get("square/5")).toEqual({ n: 5, square: 25 });
    expect((await engine.refresh("square/5")).computeCount).toBe(2);
    expect((await engine.refresh("square/5")).computeCount).toBe(3);
    expect(calls.get("square/5")).toBe(3);
    // Stopping waits for the last unlock: the lock is free afterwards.
    await engine.stop();
    const session = await db.session();
    try {
      expect(await tryLock(session, "square/5")).toBe(true);
      await unlock(session, "square/5");
    } finally {
      session.release();
    }
  } finally {
    await engine.stop();
  }
});

it("reads a row and takes the compute lock only when there is nothing to serve", async () => {
  const q = await db.session();
  const other = await db.session();
  try {
    await store("square/20");
    expect(await readOrLock(q, "square/20")).toMatchObject({
      locked: false,
      product: { key: "square/20", version: 1 },
    });
    // Missing: locked, nothing read.
    expect(await readOrLock(q, "square/21")).toEqual({ locked: true, product: undefined });
    // Someone else computing it: not locked, and what there is (nothing) is returned.
    expect(await readOrLock(other, "square/21")).toEqual({ locked: false, product: undefined });
    await unlock(q, "square/21");
    // Expired: locked, and the row read under the lock.
    await store("square/22");
    await db.query(
      "update kck.products set fresh_until = now(), stale_until = now() where key = $1",
      ["square/22"],
    );
    expect(await readOrLock(q, "square/22")).toMatchObject({
      locked: true,
      product: { key: "square/22", version: 1 },
    });
    await unlock(q, "square/22");
  } finally {
    q.release();
    other.release();
  }
});

it("starts a missing product's compute after one statement, the read that took its lock", async () => {
  let before = 0;
  let atCompute = -1;
  const counted = definePrimer({
    name: "counted",
    params: { n: param.int() },
    type: "Int",
    compute: ({ n }) => {
      atCompute = db.stats.statements - before;
      return n;
    },
  });
  const engine = await Engine.start({ db, primers: [counted] });
  try {
    before = db.stats.statements;
    expect(await engine.get("counted/1")).toBe(1);
    expect(atCompute).toBe(1);
  } finally {
    await engine.stop();
  }
});

it("computes once when reads that take the lock race flights waiting for it, on two engines", async () => {
  const engines = await Promise.all(
    [1, 2].map(() => Engine.start({ db, primers: fixturePrimers })),
  );
  try {
    calls.clear();
    control.delayMs = 50;
    const values = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (engines[i % 2] as Engine).get("square/30")),
    );
    expect(values).toEqual(Array(40).fill({ n: 30, square: 900 }));
    expect(calls.get("square/30")).toBe(1);
  } finally {
    control.delayMs = 0;
    await Promise.all(engines.map((engine) => engine.stop()));
  }
});

it("hands a lock a read took to the flight of its key, or lets it go", async () => {
  const lets: Promise<unknown>[] = [];
  const releases = new LockReleases((work) => lets.push(work));
  const locks = new PreLocks({ db, releases, flying: () => false, generation: () => 0 });
  const owner = {};
  const taken = async (key: string) => {
    const session = new SharedSession(await db.session());
    expect(await tryLock(session.q, key)).toBe(true);
    locks.hold(key, { lock: releases.held(key, session), product: undefined, owner });
    return session;
  };
  const free = async (key: string) => {
    await Promise.all(lets);
    const probe = await db.session();
    try {
      const got = await tryLock(probe, key);
      if (got) await unlock(probe, key);
      return got;
    } finally {
      probe.release();
    }
  };
  const flight = await taken("square/40");
  expect(locks.take("square/40")?.lock.session).toBe(flight);
  expect(locks.take("square/40")).toBeUndefined();
  await unlock(flight.q, "square/40");
  flight.release();

  await taken("square/41");
  locks.drop("square/41", {});
  expect(await free("square/41")).toBe(false);
  locks.drop("square/41", owner);
  expect(await free("square/41")).toBe(true);

  await taken("square/42");
  locks.release("square/42");
  expect(await free("square/42")).toBe(true);
});

it("computes once when a read that may take the lock and a refresh of a missing key start together", async () => {
  const engine = await Engine.start({ db, primers: fixturePrimers });
  try {
    calls.clear();
    for (let n = 50; n < 60; n++) {
      const key = `square/${n}`;
      const [read, refreshed] = await Promise.all([engine.get(key), engine.refresh(key)]);
      expect(read).toEqual({ n, square: n * n });
      expect(refreshed.value).toEqual({ n, square: n * n });
      expect(calls.get(key)).toBe(1);
    }
  } finally {
    await engine.stop();
  }
});

it("survives the server ending a held session's connection, and destroys it on release", async () => {
  const session = await db.session();
  const pid = await backendPid(session);
  await db.query("select pg_terminate_backend($1)", [pid]);
  // The server ends it between statements: the next one fails, nothing is thrown elsewhere.
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where pid = $1",
      [pid],
    );
    if (rows[0]?.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await expect(session.query("select 1")).rejects.toThrow();
  session.release();
  // The pool has not kept it: the next session works.
  const next = await db.session();
  try {
    expect((await next.query<{ one: number }>("select 1 as one")).rows).toEqual([{ one: 1 }]);
  } finally {
    next.release();
  }
});
