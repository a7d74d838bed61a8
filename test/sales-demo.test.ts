import { afterAll, beforeAll, expect, it } from "vitest";
import { setup as librarySetup, seedLibrary } from "../primers/library/setup.ts";
import { loadPrimers } from "../src/load-primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  const { primers, setups } = await loadPrimers("primers");
  // The demo's own setup seeds 300k sales; a few thousand show the same behaviour.
  kck = await startTestApp({
    databaseUrl: database.url,
    primers,
    setups: [
      (db) => seedLibrary(db, { sales: 5000 }),
      ...setups.filter((setup) => setup !== librarySetup),
    ],
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

interface Totals {
  sales: number;
  copies: number;
  revenueCents: number;
}

interface Book extends Totals {
  bookId: number;
  authorId: number;
}

const TOTALS = "sales copies revenueCents";
const READ = `query ($authorId: Int!) {
  salesTotals { books { bookId authorId ${TOTALS} } authors { authorId ${TOTALS} } }
  authorSales(authorId: $authorId) { authorId ${TOTALS} books { bookId ${TOTALS} } }
  salesRanking { rank authorId revenueCents copies } }`;

const AUGMENT = `mutation ($sale: SaleInput!) {
  augmentSalesTotals(delta: $sale) { key version value { books { bookId ${TOTALS} } } } }`;

const salesRows = async () =>
  (await kck.app.engine.db.query<{ n: number }>("select count(*)::int as n from sales")).rows[0]?.n;

it("augments the store's totals with one sale, and its dependents follow by their rules", async () => {
  const engine = kck.app.engine;
  const before = await kck.gql<{ salesTotals: { books: Book[] } }>(READ, { authorId: 5 });
  expect(before.errors).toBeUndefined();
  await engine.get("authorSales/6");
  const book = before.data?.salesTotals.books.find((b) => b.authorId === 5) as Book;
  const { rows } = await engine.db.query<{ price: number }>(
    `select price_cents as price from prices where book_id = $1 and valid_from <= now()
     order by valid_from desc limit 1`,
    [book.bookId],
  );
  const price = rows[0]?.price as number;
  const count = await salesRows();

  const { data, errors } = await kck.gql<{
    augmentSalesTotals: { key: string; version: number; value: { books: Book[] } };
  }>(AUGMENT, { sale: { bookId: book.bookId, quantity: 3 } });
  expect(errors).toBeUndefined();
  expect(data?.augmentSalesTotals).toMatchObject({ key: "salesTotals", version: 2 });
  expect(data?.augmentSalesTotals.value.books.find((b) => b.bookId === book.bookId)).toEqual({
    bookId: book.bookId,
    sales: book.sales + 1,
    copies: book.copies + 3,
    revenueCents: book.revenueCents + 3 * price,
  });
  expect(await salesRows()).toBe((count ?? 0) + 1);

  // The ranking and the author of the book were augmented in the same transaction; another
  // author, whose totals the sale does not change, was left as it was.
  for (const key of ["salesRanking", "authorSales/5"]) {
    expect(await engine.inspect(key)).toMatchObject({ computeCount: 1, augmentCount: 1 });
  }
  expect(await engine.inspect("authorSales/6")).toMatchObject({
    version: 1,
    augmentCount: 0,
    freshUntil: null,
  });

  // The augmented values are exactly what full recomputes give.
  const after = await kck.gql(READ, { authorId: 5 });
  for (const key of ["salesTotals", "salesRanking", "authorSales/5"]) await engine.refresh(key);
  expect((await kck.gql(READ, { authorId: 5 })).data).toEqual(after.data);
  expect((await engine.inspect("salesTotals"))?.version).toBe(2);
});

it("refuses a sale of an unknown book, or of no copies, and writes nothing", async () => {
  const engine = kck.app.engine;
  const before = await engine.inspect("salesTotals");
  const count = await salesRows();
  const unknown = await kck.gql(AUGMENT, { sale: { bookId: 99_999, quantity: 1 } });
  expect(unknown.errors?.[0]).toMatchObject({
    message: "There is no book 99999.",
    extensions: { code: "BAD_PARAM" },
  });
  const none = await kck.gql(AUGMENT, { sale: { bookId: 1, quantity: 0 } });
  expect(none.errors?.[0]?.extensions?.["code"]).toBe("BAD_PARAM");
  expect(await salesRows()).toBe(count);
  expect(await engine.inspect("salesTotals")).toEqual(before);
});

it("exposes the typed delta input and per-primer update types", async () => {
  const { data } = await kck.gql<{
    sale: { inputFields: { name: string; type: { kind: string } }[] };
    update: { fields: { name: string; type: { name: string | null; ofType: { name: string } } }[] };
  }>(`{
    sale: __type(name: "SaleInput") { inputFields { name type { kind } } }
    update: __type(name: "SalesTotalsUpdate") { fields { name type { name ofType { name } } } }
  }`);
  // The schema is printed sorted.
  expect(data?.sale.inputFields.map((f) => [f.name, f.type.kind])).toEqual([
    ["bookId", "NON_NULL"],
    ["quantity", "NON_NULL"],
  ]);
  expect(data?.update.fields.map((f) => [f.name, f.type.ofType.name])).toEqual([
    ["key", "String"],
    ["value", "SalesTotals"],
    ["version", "Int"],
  ]);
});
