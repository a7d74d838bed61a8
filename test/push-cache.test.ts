import { afterAll, beforeAll, expect, it } from "vitest";
import { definePrimer, param } from "../src/index.ts";
import { fixturePrimers } from "./fixtures/counting.ts";
import { ledgerPrimers, setupLedger } from "./fixtures/ledger.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

/** Refreshed by a trigger whenever an account's entries change. */
const entryCount = definePrimer({
  name: "entryCount",
  params: { id: param.string() },
  type: "Int",
  sources: [{ table: "ledger_entries", params: { id: "account" } }],
  compute: async ({ id }, ctx) => {
    const [row] = await ctx.sql<{ n: number }>(
      "select count(*)::int as n from ledger_entries where account = $1",
      [id],
    );
    return row?.n ?? 0;
  },
});

/** Reads a source-triggered product, without any rule: its version changes when that one does. */
const entryReport = definePrimer({
  name: "entryReport",
  params: { id: param.string() },
  type: "String",
  compute: async ({ id }, ctx) => `${id}: ${await ctx.get(entryCount, { id })} entries`,
});

const primers = [...fixturePrimers, ...ledgerPrimers, entryCount, entryReport];
let database: TestDatabase;
let kck: TestApp;
let bounded: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  const jobs = { worker: false };
  kck = await startTestApp({ databaseUrl: database.url, primers, setups: [setupLedger], jobs });
  bounded = await startTestApp({
    databaseUrl: database.url,
    primers,
    setups: [setupLedger],
    jobs,
    pushMaxAge: 5,
  });
});

afterAll(async () => {
  await kck?.stop();
  await bounded?.stop();
  await database?.drop();
});

const get = async (app: TestApp, query: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${app.url}?query=${encodeURIComponent(query)}`, {
    headers: { accept: "application/graphql-response+json", ...headers },
  });
  const body = await response.text();
  return {
    status: response.status,
    body,
    cacheControl: response.headers.get("cache-control"),
    etag: response.headers.get("etag"),
  };
};

it("sends no-cache (with an ETag) for products that change by push, max-age for the rest", async () => {
  // Fresh forever, changed by nobody but an explicit refresh: the longest max-age.
  expect((await get(kck, "{ square(n: 3) { square } }")).cacheControl).toBe("public, max-age=3600");
  for (const query of [
    '{ account(id: "p1") { balance } }', // augmentable
    '{ totals(ids: "p1") { total } }', // follows augments by a rule
    '{ doubled(ids: "p1") }', // two rules down
    '{ entryCount(id: "p1") }', // refreshed by a source trigger
    '{ entryReport(id: "p1") }', // reads a source-triggered product
    '{ square(n: 3) { square } account(id: "p1") { balance } }', // any pushed product decides
  ]) {
    const answer = await get(kck, query);
    expect(answer.status, query).toBe(200);
    expect(answer.cacheControl, query).toBe("no-cache");
    expect(answer.etag, query).toMatch(/^"[\w-]+"$/);
  }
});

it("revalidates with the ETag: 304 while the value stands, 200 once a push changed it", async () => {
  const query = '{ account(id: "p2") { balance } }';
  const first = await get(kck, query);
  const same = await get(kck, query, { "if-none-match": first.etag ?? "" });
  expect(same.status).toBe(304);
  await kck.gql('mutation { augmentAccount(id: "p2", delta: { amount: 4 }) { version } }');
  const changed = await get(kck, query, { "if-none-match": first.etag ?? "" });
  expect(changed.status).toBe(200);
  expect(JSON.parse(changed.body)).toEqual({ data: { account: { balance: 4 } } });
});

it("takes KCK_PUSH_MAX_AGE as the longest max-age of pushed products", async () => {
  expect((await get(bounded, '{ account(id: "p3") { balance } }')).cacheControl).toBe(
    "public, max-age=5",
  );
  expect((await get(bounded, "{ square(n: 4) { square } }")).cacheControl).toBe(
    "public, max-age=3600",
  );
});
