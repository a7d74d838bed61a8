import { afterAll, beforeAll, expect, it } from "vitest";
import { seedLibrary } from "../primers/library/setup.ts";
import { loadPrimers } from "../src/load-primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  const { primers } = await loadPrimers("primers");
  // The demo's own setup seeds 100k sales; a few thousand show the same behaviour.
  kck = await startTestApp({
    databaseUrl: database.url,
    primers,
    setups: [(db) => seedLibrary(db, { sales: 5000 })],
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

interface AuthorSales {
  authorId: number;
  sales: number;
  copies: number;
  revenueCents: number;
  books: { bookId: number; sales: number; copies: number; revenueCents: number }[];
}

const SALES = `query ($authorId: Int!) {
  authorSales(authorId: $authorId) { authorId sales copies revenueCents
    books { bookId sales copies revenueCents } }
  salesRanking { rank authorId revenueCents copies } }`;

const AUGMENT = `mutation ($authorId: Int!, $sale: SaleInput!) {
  augmentAuthorSales(authorId: $authorId, delta: $sale) { key version
    value { sales copies revenueCents books { bookId sales revenueCents } } } }`;

const salesRows = async () =>
  (await kck.app.engine.db.query<{ n: number }>("select count(*)::int as n from sales")).rows[0]?.n;

it("augments an author's sales with one sale and re-ranks the authors incrementally", async () => {
  const before = await kck.gql<{ authorSales: AuthorSales; salesRanking: unknown[] }>(SALES, {
    authorId: 5,
  });
  expect(before.errors).toBeUndefined();
  const author = before.data?.authorSales as AuthorSales;
  const book = author.books[1] as AuthorSales["books"][number];
  const rows = await salesRows();

  const { data, errors } = await kck.gql<{
    augmentAuthorSales: { key: string; version: number; value: AuthorSales };
  }>(AUGMENT, { authorId: 5, sale: { bookId: book.bookId, quantity: 3, amountCents: 4500 } });
  expect(errors).toBeUndefined();
  expect(data?.augmentAuthorSales).toMatchObject({
    key: "authorSales/5",
    version: 2,
    value: {
      sales: author.sales + 1,
      copies: author.copies + 3,
      revenueCents: author.revenueCents + 4500,
    },
  });
  expect(await salesRows()).toBe((rows ?? 0) + 1);

  const engine = kck.app.engine;
  expect(await engine.inspect("salesRanking")).toMatchObject({
    computeCount: 1,
    augmentCount: 1,
    version: 2,
  });
  // The augmented values are exactly what full recomputes give.
  const after = await kck.gql<{ authorSales: AuthorSales; salesRanking: unknown[] }>(SALES, {
    authorId: 5,
  });
  await engine.refresh("authorSales/5");
  await engine.refresh("salesRanking");
  const recomputed = await kck.gql(SALES, { authorId: 5 });
  expect(recomputed.data).toEqual(after.data);
  expect((await engine.inspect("salesRanking"))?.version).toBe(2);
});

it("refuses a sale of another author's book and writes nothing", async () => {
  const before = await kck.app.engine.get("authorSales/6");
  const foreign = (
    await kck.app.engine.db.query<{ id: number }>(
      "select id from books where author_id <> 6 order by id limit 1",
    )
  ).rows[0]?.id as number;
  const rows = await salesRows();
  const { errors } = await kck.gql(AUGMENT, {
    authorId: 6,
    sale: { bookId: foreign, quantity: 1, amountCents: 100 },
  });
  expect(errors?.[0]).toMatchObject({
    message: `Book ${foreign} is not by author 6; augment its own author's sales.`,
    extensions: { code: "BAD_PARAM" },
  });
  expect(await salesRows()).toBe(rows);
  expect(await kck.app.engine.get("authorSales/6")).toEqual(before);
});

it("exposes the typed delta input and per-primer update types", async () => {
  const { data } = await kck.gql<{
    sale: { inputFields: { name: string; type: { kind: string } }[] };
    update: { fields: { name: string; type: { name: string | null; ofType: { name: string } } }[] };
  }>(`{
    sale: __type(name: "SaleInput") { inputFields { name type { kind } } }
    update: __type(name: "AuthorSalesUpdate") { fields { name type { name ofType { name } } } }
  }`);
  // The schema is printed sorted.
  expect(data?.sale.inputFields.map((f) => [f.name, f.type.kind])).toEqual([
    ["amountCents", "NON_NULL"],
    ["bookId", "NON_NULL"],
    ["quantity", "NON_NULL"],
  ]);
  expect(data?.update.fields.map((f) => [f.name, f.type.ofType.name])).toEqual([
    ["key", "String"],
    ["value", "AuthorSales"],
    ["version", "Int"],
  ]);
});
