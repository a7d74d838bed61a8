import { afterAll, beforeAll, expect, it } from "vitest";
import { definePrimer, param } from "../src/index.ts";
import { control, fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

/** Fresh for an hour, then stale for a day. */
const hourly = definePrimer({
  name: "hourly",
  params: { id: param.int() },
  type: "Int",
  fresh: "1h",
  stale: "1d",
  compute: ({ id }) => id * 10,
});

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [...fixturePrimers, hourly],
    // Above every freshness here, so that the products' own freshness decides.
    cacheMaxAge: 7 * 86_400,
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const get = (query: string, headers: Record<string, string> = {}) =>
  fetch(`${kck.url}?query=${encodeURIComponent(query)}`, {
    headers: { accept: "application/graphql-response+json", ...headers },
  });

const directives = (response: Response) =>
  Object.fromEntries(
    (response.headers.get("cache-control") ?? "").split(/,\s*/).map((d) => {
      const [name, value] = d.split("=");
      return [name, value === undefined ? true : Number(value)];
    }),
  );

it("gives a primer query max-age = the product's remaining freshness, and an ETag", async () => {
  const response = await get("{ hourly(id: 1) }");
  expect(await response.json()).toEqual({ data: { hourly: 10 } });
  const cache = directives(response);
  expect(cache["public"]).toBe(true);
  expect(cache["max-age"]).toBeGreaterThan(3500);
  expect(cache["max-age"]).toBeLessThanOrEqual(3600);
  expect(cache["stale-while-revalidate"]).toBe(86_400);
  expect(response.headers.get("etag")).toMatch(/^"[\w-]{27}"$/);
  expect(response.headers.get("content-type")).toBe(
    "application/graphql-response+json; charset=utf-8",
  );
});

it("answers 304 Not Modified to If-None-Match with the current ETag", async () => {
  const first = await get("{ hourly(id: 2) }");
  const etag = first.headers.get("etag") ?? "";
  await first.text();
  const again = await get("{ hourly(id: 2) }", { "if-none-match": `"other", W/${etag}` });
  expect(again.status).toBe(304);
  expect(await again.text()).toBe("");
  expect(again.headers.get("etag")).toBe(etag);
  expect(directives(again)["max-age"]).toBeGreaterThan(3500);
  const changed = await get("{ hourly(id: 3) }", { "if-none-match": etag });
  expect(changed.status).toBe(200);
  expect(await changed.json()).toEqual({ data: { hourly: 30 } });
});

it("takes the least freshness of the products an operation read", async () => {
  // square is fresh forever: capped at cacheMaxAge; with hourly, hourly decides.
  const forever = await get("{ square(n: 3) { square } }");
  expect(directives(forever)["max-age"]).toBe(7 * 86_400);
  await forever.text();
  const both = await get("{ square(n: 3) { square } hourly(id: 1) }");
  expect(directives(both)["max-age"]).toBeLessThanOrEqual(3600);
  await both.text();
});

it("serves a stale product with max-age=0 and its stale window", async () => {
  await (await get("{ clock(id: 3) }")).text();
  await new Promise((resolve) => setTimeout(resolve, 80));
  const stale = await get("{ clock(id: 3) }");
  const cache = directives(stale);
  await stale.text();
  expect(cache["max-age"]).toBe(0);
  expect(cache["stale-while-revalidate"]).toBeGreaterThan(3500);
  expect(cache["stale-while-revalidate"]).toBeLessThanOrEqual(3600);
});

it("makes caches revalidate product(key) queries, and the ETag follows the data", async () => {
  const query = '{ product(key: "hourly/1") { version computeCount } }';
  const first = await get(query);
  expect(first.headers.get("cache-control")).toBe("no-cache");
  const etag = first.headers.get("etag");
  expect(etag).toMatch(/^"/);
  await first.text();
  const same = await get(query, { "if-none-match": etag ?? "" });
  expect(same.status).toBe(304);
  await kck.gql('mutation { refresh(key: "hourly/1") { version } }');
  const after = await get(query, { "if-none-match": etag ?? "" });
  expect(after.status).toBe(200);
  expect(await after.json()).toEqual({ data: { product: { version: 1, computeCount: 2 } } });
});

it("never lets mutations, errors or bad requests be stored", async () => {
  const mutation = await fetch(kck.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: 'mutation { refresh(key: "hourly/5") { version } }' }),
  });
  expect(mutation.headers.get("cache-control")).toBe("no-store");
  expect(mutation.headers.get("etag")).toBeNull();
  await mutation.text();

  control.fail = true;
  try {
    const failed = await get('{ flaky(id: "c") }');
    expect((await failed.json()).errors).toHaveLength(1);
    expect(failed.headers.get("cache-control")).toBe("no-store");
  } finally {
    control.fail = false;
  }
  const invalid = await get("{ hourly(id: 1) nope }");
  expect(invalid.headers.get("cache-control")).toBe("no-store");
  await invalid.text();
});
