import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../src/db/db.ts";
import { createListener, type Listener } from "../src/db/listener.ts";
import { writeAugmented } from "../src/sql/augments.ts";
import { type ComputedWrite, touchProduct, writeComputed } from "../src/sql/computes.ts";
import { evictLeastUsed } from "../src/sql/evict.ts";
import { expireProduct, expireWithDependents } from "../src/sql/invalidations.ts";
import { migrate } from "../src/sql/migrate.ts";
import { type ChangeEvent, EVENTS_CHANNEL } from "../src/sql/notify.ts";
import { createTestDatabase, type TestDatabase, testDb } from "./helpers/db.ts";

// Every statement that announces a change, each kind of event: what the listeners (the
// engine's waiters and memory layer, the hub, the lag metric) read must arrive, with `t`.

let database: TestDatabase;
let db: Db;
let listener: Listener;
const payloads: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = testDb(database.url);
  await migrate(db);
  listener = createListener({
    url: database.url,
    channel: EVENTS_CHANNEL,
    onPayload: (payload) => payloads.push(payload),
  });
  await listener.ready;
});

afterAll(async () => {
  await listener?.close();
  await db?.close();
  await database?.drop();
});

/** The database's clock in ms, as events carry it. */
async function clock(): Promise<number> {
  const { rows } = await db.query<{ t: number }>(
    "select (extract(epoch from clock_timestamp()) * 1000)::bigint as t",
  );
  return (rows[0] as { t: number }).t;
}

/**
 * Runs `write` and returns the `count` events it sent, checked for their shape: exactly
 * `{k, v, op, c, t}`, with `t` the database's clock while the statement ran.
 */
async function eventsOf(count: number, write: () => Promise<unknown>): Promise<ChangeEvent[]> {
  const from = payloads.length;
  const before = await clock();
  await write();
  const after = await clock();
  while (payloads.length < from + count) await new Promise((resolve) => setTimeout(resolve, 5));
  const events = payloads.slice(from).map((payload) => JSON.parse(payload) as ChangeEvent);
  expect(events).toHaveLength(count);
  for (const event of events) {
    expect(Object.keys(event).sort()).toEqual(["c", "k", "op", "t", "v"]);
    expect(typeof event.t).toBe("number");
    expect(event.t).toBeGreaterThanOrEqual(before);
    expect(event.t).toBeLessThanOrEqual(after);
  }
  return events;
}

const computed = (key: string, over: Partial<ComputedWrite> = {}): ComputedWrite => ({
  key,
  primer: "ev",
  params: { id: key },
  json: `{"key":"${key}"}`,
  hash: `hash-${key}`,
  freshUntil: null,
  staleUntil: null,
  computeMs: 1,
  dependencies: [],
  invalidations: 0,
  ...over,
});

it("sends every kind of change event with the time it was written", async () => {
  const pick = ({ k, v, op, c }: ChangeEvent) => ({ k, v, op, c });

  // A new value, the same value again, and a version that says "not found".
  expect((await eventsOf(1, () => writeComputed(db, computed("ev/a")))).map(pick)).toEqual([
    { k: "ev/a", v: 1, op: "compute", c: true },
  ]);
  expect((await eventsOf(1, () => writeComputed(db, computed("ev/a")))).map(pick)).toEqual([
    { k: "ev/a", v: 1, op: "compute", c: false },
  ]);
  const gone = computed("ev/gone", { json: "null", hash: "not-found", notFound: "No such." });
  expect((await eventsOf(1, () => writeComputed(db, gone))).map(pick)).toEqual([
    { k: "ev/gone", v: 1, op: "compute", c: true },
  ]);

  // Freshness moved without a new value (`ctx.unchanged()`).
  const touched = await eventsOf(1, () =>
    touchProduct(db, {
      key: "ev/a",
      freshUntil: null,
      staleUntil: null,
      computeMs: 1,
      invalidations: 0,
    }),
  );
  expect(touched.map(pick)).toEqual([{ k: "ev/a", v: 1, op: "compute", c: false }]);

  // An augment, one that changes nothing, and an invalidation.
  const augment = (versions: number) =>
    eventsOf(1, () =>
      db.transaction((tx) =>
        writeAugmented(tx, {
          key: "ev/a",
          json: `{"n":${versions}}`,
          hash: `augmented-${versions}`,
          versions,
          augments: 1,
        }),
      ),
    );
  expect((await augment(1)).map(pick)).toEqual([{ k: "ev/a", v: 2, op: "augment", c: true }]);
  expect((await augment(0)).map(pick)).toEqual([{ k: "ev/a", v: 2, op: "augment", c: false }]);
  expect((await eventsOf(1, () => expireProduct(db, "ev/a"))).map(pick)).toEqual([
    { k: "ev/a", v: 2, op: "invalidate", c: false },
  ]);

  // An invalidation that reaches a dependent.
  await eventsOf(1, () => writeComputed(db, computed("ev/b", { dependencies: ["ev/a"] })));
  const expired = await eventsOf(2, () => expireWithDependents(db, ["ev/a"]));
  expect(expired.map(pick).sort((x, y) => x.k.localeCompare(y.k))).toEqual([
    { k: "ev/a", v: 2, op: "invalidate", c: false },
    { k: "ev/b", v: 1, op: "invalidate", c: false },
  ]);

  // An eviction: the least recently used product nobody reads ("ev/b" reads "ev/a").
  const evicted = await eventsOf(1, () => evictLeastUsed(db, "ev", 1));
  expect(evicted.map(pick)).toEqual([
    { k: expect.stringMatching(/^ev\/(b|gone)$/), v: 1, op: "evict", c: false },
  ]);
});

it("builds every change event in one place, src/sql/notify.ts", async () => {
  // A pg_notify written anywhere else could leave out a field the listeners read.
  const files = (await readdir("src", { recursive: true })).filter((f) => f.endsWith(".ts"));
  const spelled: string[] = [];
  for (const file of files) {
    if ((await readFile(`src/${file}`, "utf8")).includes("pg_notify")) spelled.push(file);
  }
  expect(spelled).toEqual(["sql/notify.ts"]);
});
