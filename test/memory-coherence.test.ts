import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { connectClient } from "../src/db/db.ts";
import { definePrimer, param } from "../src/index.ts";
import { calls, control, fixturePrimers } from "./fixtures/counting.ts";
import { gauge } from "./fixtures/gauge.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

// Instance A caches; instance B changes products; A must serve B's change once its change
// event has arrived. Nothing here waits on a clock: expect.poll waits for the event.

/** Expired as soon as it is computed (fresh 30 ms, never served stale). */
const ephemeral = definePrimer({
  name: "ephemeral",
  params: { id: param.int() },
  type: "Int",
  fresh: 30,
  stale: 0,
  compute(_params, ctx) {
    calls.set(ctx.key, (calls.get(ctx.key) ?? 0) + 1);
    return calls.get(ctx.key) ?? 0;
  },
});

const primers = [...fixturePrimers, ephemeral, gauge];
let database: TestDatabase;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await startTestApp({ databaseUrl: database.url, primers });
  b = await startTestApp({ databaseUrl: database.url, primers });
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await database?.drop();
});

beforeEach(() => {
  control.fail = false;
  control.delayMs = 0;
});

const flaky = async (app: TestApp, id: string) =>
  (await app.gql<{ flaky: string }>(`{ flaky(id: "${id}") }`)).data?.flaky;

/** Resolves when A hears the change event of `key`. */
const eventOnA = (key: string) =>
  new Promise<void>((resolve) => {
    const off = a.app.engine.onChange((event) => {
      if (event.k !== key) return;
      off();
      resolve();
    });
  });

/**
 * Computes `flaky/<id>` through A and waits for its change event, so that A's next read is
 * kept (a read that overlaps an event for its key is not).
 */
async function computeOnA(id: string): Promise<string | undefined> {
  const heard = eventOnA(`flaky/${id}`);
  const value = await flaky(a, id);
  await heard;
  return value;
}

/** Reads through A twice more and checks that the second read cost A no SQL at all. */
async function expectCachedOnA(id: string, value: string): Promise<void> {
  expect(await flaky(a, id)).toBe(value);
  const before = a.app.engine.db.stats.statements;
  expect(await flaky(a, id)).toBe(value);
  expect(a.app.engine.db.stats.statements).toBe(before);
}

it("serves another instance's refresh once its change event has arrived", async () => {
  expect(await computeOnA("r")).toBe("ok:r:1");
  await expectCachedOnA("r", "ok:r:1");
  const hits = a.app.responseCache?.stats().hits ?? 0;
  expect(await flaky(a, "r")).toBe("ok:r:1");
  expect(a.app.responseCache?.stats().hits).toBe(hits + 1);

  const refreshed = await b.gql<{ refresh: { version: number } }>(
    'mutation { refresh(key: "flaky/r") { version } }',
  );
  expect(refreshed.data?.refresh.version).toBe(2);
  await expect.poll(() => flaky(a, "r"), { timeout: 10_000 }).toBe("ok:r:2");
  // And A keeps the new version in memory from then on.
  await expectCachedOnA("r", "ok:r:2");
  expect(a.app.engine.memory?.peek("flaky/r")?.version).toBe(2);
});

it("recomputes on A after B invalidates, once the event has arrived", async () => {
  expect(await computeOnA("i")).toBe("ok:i:1");
  await expectCachedOnA("i", "ok:i:1");
  await b.gql('mutation { invalidate(key: "flaky/i") { version } }');
  await expect.poll(() => flaky(a, "i"), { timeout: 10_000 }).toBe("ok:i:2");
  expect(calls.get("flaky/i")).toBe(2);
});

it("keeps the engine's own reads coherent too (no HTTP, no response cache)", async () => {
  const heard = eventOnA("flaky/e");
  expect(await a.app.engine.get("flaky/e")).toBe("ok:e:1");
  await heard;
  expect(await a.app.engine.get("flaky/e")).toBe("ok:e:1");
  expect(a.app.engine.memory?.peek("flaky/e")?.value).toBe("ok:e:1");
  await b.app.engine.refresh("flaky/e");
  await expect.poll(() => a.app.engine.get("flaky/e"), { timeout: 10_000 }).toBe("ok:e:2");
});

it("reads its own writes at once, before its own change event comes back", async () => {
  expect(await computeOnA("w")).toBe("ok:w:1");
  await expectCachedOnA("w", "ok:w:1");
  const memory = a.app.engine.memory;
  // Checked right as the write returns, which is (almost always) before its event is heard.
  await a.app.engine.refresh("flaky/w");
  expect(memory?.peek("flaky/w")).toBeUndefined();
  expect(await flaky(a, "w")).toBe("ok:w:2");
  await a.app.engine.invalidate("flaky/w");
  expect(memory?.peek("flaky/w")).toBeUndefined();
  expect(await flaky(a, "w")).toBe("ok:w:3");
});

it("reads its own augments at once, also of a product no other product reads", async () => {
  const heard = eventOnA("gauge/rw");
  expect(await a.app.engine.get("gauge/rw")).toEqual({ name: "rw", level: 0 });
  await heard;
  await a.app.engine.get("gauge/rw");
  const memory = a.app.engine.memory;
  expect(memory?.peek("gauge/rw")).toBeDefined();
  // Checked right as the augment returns, which is (almost always) before its event is heard.
  await a.app.engine.augment("gauge/rw", { by: 2 });
  expect(memory?.peek("gauge/rw")).toBeUndefined();
  expect(await a.app.engine.get("gauge/rw")).toEqual({ name: "rw", level: 2 });
});

it("serves a stale copy while it refreshes it, and never serves an expired one", async () => {
  const clock = async () => (await a.gql<{ clock: number }>("{ clock(id: 5) }")).data?.clock;
  expect(await clock()).toBe(1);
  // clock is fresh for 50 ms and then stale: a read of the stale copy starts one refresh.
  await expect.poll(clock, { timeout: 10_000 }).toBe(2);

  const read = async () =>
    (await a.gql<{ ephemeral: number }>("{ ephemeral(id: 1) }")).data?.ephemeral;
  const first = await read();
  // ephemeral expires 30 ms after each compute: an expired copy must be computed again.
  await expect.poll(read, { timeout: 10_000 }).toBeGreaterThan(first ?? 0);
});

it("empties its memory when the change-event connection was lost, since events may be missed", async () => {
  expect(await computeOnA("k")).toBe("ok:k:1");
  await expectCachedOnA("k", "ok:k:1");
  const reconnected = new Promise<void>((resolve) => {
    const off = a.app.engine.onReconnect(() => {
      off();
      resolve();
    });
  });
  const admin = await connectClient(database.url, "kck-test-admin");
  try {
    await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where application_name = 'kck-listener' and datname = current_database()`,
    );
  } finally {
    await admin.end();
  }
  // A change while A may not be listening: A must not go on serving its old copy.
  await b.app.engine.refresh("flaky/k");
  await reconnected;
  expect(a.app.engine.memory?.peek("flaky/k")).toBeUndefined();
  expect(await flaky(a, "k")).toBe("ok:k:2");
  // And it is back in service: a read is kept again (polled: a read that overlaps B's change
  // event, if A heard it late, is rightly not kept).
  await expect
    .poll(
      async () => {
        await flaky(a, "k");
        return a.app.engine.memory?.peek("flaky/k")?.value;
      },
      { timeout: 10_000 },
    )
    .toBe("ok:k:2");
});
