import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  AuthorProfileDocument,
  CatalogDocument,
  ProductInfoDocument,
  TitleListDocument,
} from "../schema/generated/graphql.ts";
import { loadPrimers } from "../src/load-primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  const { primers, setups } = await loadPrimers("primers");
  kck = await startTestApp({ databaseUrl: database.url, primers, setups });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

/** Runs a typed client operation from schema/generated against the gateway. */
async function run<R, V extends Record<string, unknown>>(
  document: TypedDocumentNode<R, V>,
  variables: V,
): Promise<R> {
  const { data, errors } = await kck.gql<R>(print(document), variables);
  expect(errors).toBeUndefined();
  return data as R;
}

it("serves the seed's example: titleList(authorId: 1), computed once", async () => {
  const first = await run(TitleListDocument, { authorId: 1 });
  const second = await run(TitleListDocument, { authorId: 1 });
  expect(second).toEqual(first);
  const { rows } = await kck.app.engine.db.query<{ title: string }>(
    "select title from books where author_id = 1 order by title",
  );
  expect(first.titleList?.map((t) => t.title)).toEqual(rows.map((r) => r.title));
  expect(rows.length).toBeGreaterThan(2);
  const info = await run(ProductInfoDocument, { key: "titleList/1" });
  expect(info.product).toMatchObject({
    key: "titleList/1",
    version: 1,
    computeCount: 1,
    state: "FRESH",
  });
});

it("builds authorProfile from the author and titleList products and records the edges", async () => {
  const { authorProfile } = await run(AuthorProfileDocument, { authorId: 3 });
  const titles = await run(TitleListDocument, { authorId: 3 });
  expect(authorProfile?.titles).toEqual(titles.titleList?.map((t) => t.title));
  expect(authorProfile?.titleCount).toBe(titles.titleList?.length);
  const info = await run(ProductInfoDocument, { key: "authorProfile/3" });
  expect(info.product?.dependencies.map((d) => d.key)).toEqual(["author/3", "titleList/3"]);
  const leaf = await run(ProductInfoDocument, { key: "titleList/3" });
  expect(leaf.product?.dependents.map((d) => d.key)).toEqual(["authorProfile/3"]);
  expect(leaf.product?.computeCount).toBe(1);
});

it("builds the catalog from one genreStats product per genre", async () => {
  const { catalog } = await run(CatalogDocument, {});
  const { rows } = await kck.app.engine.db.query<{ n: number }>(
    "select count(distinct genre)::int as n from books",
  );
  expect(catalog).toHaveLength(rows[0]?.n ?? -1);
  const total = catalog?.reduce((sum, g) => sum + g.books, 0);
  const books = await kck.app.engine.db.query<{ n: number }>(
    "select count(*)::int as n from books",
  );
  expect(total).toBe(books.rows[0]?.n);
  const info = await run(ProductInfoDocument, { key: "catalog" });
  expect(info.product?.dependencies).toHaveLength(rows[0]?.n ?? -1);
});
