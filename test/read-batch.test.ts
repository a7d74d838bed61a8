import { afterAll, beforeAll, expect, it } from "vitest";
import { fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

it("reads the stored products of loads begun in one turn with one statement", async () => {
  const engine = kck.app.engine;
  const keys = Array.from({ length: 20 }, (_, n) => `square/${n + 100}`);
  await engine.getMany(keys);
  // Out of the memory layer, so that every load below reads the database.
  engine.memory?.clear();
  const before = engine.db.stats.statements;
  // Twenty loads of one key each, as twenty requests whose data arrived together make them.
  const values = await Promise.all(keys.map((key) => engine.get(key)));
  expect(values).toEqual(keys.map((_, n) => ({ n: n + 100, square: (n + 100) ** 2 })));
  expect(engine.db.stats.statements - before).toBe(1);
});

it("gives each load of a shared read only its own keys", async () => {
  const engine = kck.app.engine;
  await engine.getMany(["square/1", "square/2"]);
  engine.memory?.clear();
  const [a, b] = await Promise.all([
    engine.load([engine.parse("square/1")]),
    engine.load([engine.parse("square/2")]),
  ]);
  expect(a?.map((p) => (p instanceof Error ? p : p.key))).toEqual(["square/1"]);
  expect(b?.map((p) => (p instanceof Error ? p : p.key))).toEqual(["square/2"]);
});
