import { afterAll, beforeAll, expect, it } from "vitest";
import { calls, control, fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers });
  b = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers });
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await database?.drop();
});

it("computes a missing key once for 200 concurrent requests spread over two instances", async () => {
  control.delayMs = 300;
  const requests = Array.from({ length: 200 }, (_, i) =>
    (i % 2 === 0 ? a : b).gql<{ square: { square: number } }>("{ square(n: 31) { square } }"),
  );
  const results = await Promise.all(requests);
  expect(results.every((r) => r.data?.square.square === 961 && r.errors === undefined)).toBe(true);
  expect(calls.get("square/31")).toBe(1);
  const { data } = await a.gql<{ product: { computeCount: number; version: number } }>(
    '{ product(key: "square/31") { computeCount version } }',
  );
  expect(data?.product).toEqual({ computeCount: 1, version: 1 });
});

it("shares one forced refresh per instance among concurrent refresh requests", async () => {
  control.delayMs = 200;
  await a.gql("{ square(n: 32) { square } }");
  const refreshes = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).gql('mutation { refresh(key: "square/32") { computeCount } }'),
    ),
  );
  expect(refreshes.every((r) => r.errors === undefined)).toBe(true);
  // One compute for the first read, then one forced refresh per instance (they do not share
  // an in-flight refresh across processes, since each was asked after the other had begun).
  expect(calls.get("square/32")).toBeGreaterThanOrEqual(2);
  expect(calls.get("square/32")).toBeLessThanOrEqual(3);
});

it("computes nested products once when two instances build products that share them", async () => {
  control.delayMs = 50;
  await Promise.all([
    a.gql("{ sumOfSquares(n: 10) }"),
    b.gql("{ sumOfSquares(n: 10) }"),
    b.gql("{ sumOfSquares(n: 11) }"),
  ]);
  for (let n = 1; n <= 11; n++) expect(calls.get(`square/${n}`)).toBe(1);
  expect(calls.get("sumOfSquares/10")).toBe(1);
});
