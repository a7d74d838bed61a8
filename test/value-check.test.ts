import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../src/db/db.ts";
import { buildSchema } from "../src/graphql/schema.ts";
import { misfitFinder, ValueChecker } from "../src/graphql/value-checker.ts";
import { defineObject, definePrimer, Engine, KckError, param } from "../src/index.ts";
import { createTestDatabase, type TestDatabase, testDb } from "./helpers/db.ts";

interface Book {
  title: string;
  pages: number;
  tags: string[];
}

const BookType = defineObject<Book>("CheckedBook", (t) => ({
  title: t.exposeString("title"),
  pageCount: t.exposeInt("pages"),
  tags: t.exposeStringList("tags"),
}));

/** What the next compute of `books` returns. */
const next: { value: unknown } = { value: [] };

const books = definePrimer({
  name: "checkedBooks",
  params: { shelf: param.int() },
  type: [BookType],
  compute: () => next.value as Book[],
});

let database: TestDatabase;
let db: Db;
let engine: Engine;

beforeAll(async () => {
  database = await createTestDatabase();
  db = testDb(database.url);
  engine = await Engine.start({ db, primers: [books], values: new ValueChecker([books]) });
});

afterAll(async () => {
  await engine?.stop();
  await db?.close();
  await database?.drop();
});

const failureOf = async (fn: () => Promise<unknown>): Promise<KckError> => {
  try {
    await fn();
  } catch (error) {
    if (error instanceof KckError) return error;
    throw error;
  }
  throw new Error("expected a failure");
};

const good: Book[] = [{ title: "Emma", pages: 474, tags: ["novel"] }];

it("rejects a wrong-shaped value with COMPUTE_FAILED naming the path, keeping the last good value", async () => {
  next.value = good;
  expect(await engine.get("checkedBooks/1")).toEqual(good);
  const before = await engine.inspect("checkedBooks/1");

  const cases: [unknown, string][] = [
    [
      [{ title: "Emma", tags: [] }],
      "at value[0].pageCount expected Int!, got nothing (the field is missing)",
    ],
    [
      [{ title: "Emma", pages: "many", tags: [] }],
      'at value[0].pageCount expected Int, got "many"',
    ],
    [
      { title: "Emma", pages: 1, tags: [] },
      "at value expected a list of CheckedBook!, got an object",
    ],
    [
      [{ title: { text: "Emma" }, pages: 1, tags: [] }],
      "at value[0].title expected String, got an object",
    ],
    [[good[0], null], "at value[1] expected CheckedBook!, got null"],
  ];
  for (const [value, where] of cases) {
    next.value = value;
    const error = await failureOf(() => engine.refresh("checkedBooks/1"));
    expect(error.code).toBe("COMPUTE_FAILED");
    expect(error.message).toContain(where);
    expect(error.message).toContain("the last good value stays");
  }
  const after = await engine.inspect("checkedBooks/1");
  expect(after?.value).toEqual(good);
  expect(after?.version).toBe(before?.version);
  expect(after?.lastError).toContain("at value[1] expected CheckedBook!, got null");
  expect(after?.errorCount).toBe(cases.length);
});

it("stores nothing for a new key whose first value does not fit", async () => {
  next.value = [{ title: 5 }];
  const error = await failureOf(() => engine.get("checkedBooks/2"));
  expect(error.code).toBe("COMPUTE_FAILED");
  const stored = await engine.inspect("checkedBooks/2");
  expect(stored?.computedAt).toBeNull();
  expect(stored?.value).toBeNull();
});

it("accepts what the gateway would serialize: numeric strings for Int, null in nullable places", async () => {
  next.value = [{ title: "Emma", pages: "474", tags: [] }];
  expect(await engine.refresh("checkedBooks/3")).toMatchObject({ version: 1 });
});

it("checks a 10k-element list of objects", () => {
  const type = buildSchema([books]).getQueryType()?.getFields()["checkedBooks"]?.type;
  if (type === undefined) throw new Error("no field");
  const findMisfit = misfitFinder();
  const large = Array.from({ length: 10_000 }, (_, i) => ({
    title: `t${i}`,
    pages: i,
    tags: ["a", "b"],
  }));
  expect(findMisfit(type, large)).toBeUndefined();
  large[9_999] = { title: "x", pages: 1.5, tags: [] };
  expect(findMisfit(type, large)).toEqual({
    path: "value[9999].pageCount",
    expected: "Int",
    got: "1.5",
  });
});
