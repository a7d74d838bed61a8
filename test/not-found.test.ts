import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Queryable } from "../src/db/db.ts";
import { defineObject, definePrimer, notFound, param } from "../src/index.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { collect, wsClient } from "./helpers/subscribe.ts";

const Person = defineObject<{ name: string }>("NfPerson", (t) => ({
  name: t.exposeString("name"),
}));

/** A demo-like primer: one row of a source table, refreshed when the row changes. */
const person = definePrimer({
  name: "person",
  params: { id: param.int() },
  type: Person,
  sources: [{ table: "nf_people", params: { id: "id" } }],
  compute: async ({ id }, ctx) => {
    const [row] = await ctx.sql<{ name: string }>("select name from nf_people where id = $1", [id]);
    return row ?? ctx.notFound(`There is no person ${id}.`);
  },
});

/** The same row, for a primer whose values include null. */
const nickname = definePrimer({
  name: "nickname",
  params: { id: param.int() },
  type: "String",
  nullable: true,
  sources: [{ table: "nf_people", params: { id: "id" } }],
  compute: async ({ id }, ctx) => {
    const [row] = await ctx.sql<{ name: string }>("select name from nf_people where id = $1", [id]);
    return row ? `${row.name}y` : null;
  },
});

/** Reads `person`: a dependent of a product that may stop existing. */
const greeting = definePrimer({
  name: "greeting",
  params: { id: param.int() },
  type: "String",
  compute: async ({ id }, ctx) => `Hello, ${(await ctx.get(person, { id })).name}!`,
});

/** Fails while `down` is set: a transient failure, unlike a deleted row. */
const source = { down: false };
const lookup = definePrimer({
  name: "lookup",
  params: { id: param.int() },
  type: "String",
  compute: ({ id }) => {
    if (source.down) throw new Error("the source is down");
    if (id > 100) throw notFound(`Nothing is stored under ${id}.`);
    return `found ${id}`;
  },
});

const setup = async (db: Queryable) => {
  await db.query("create table if not exists nf_people (id int primary key, name text not null)");
};

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [person, nickname, greeting, lookup],
    setups: [setup],
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => kck.app.engine.db.query(text, values);
const codeOf = (answer: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  answer.errors?.[0]?.extensions?.["code"];

describe("a product that stops existing", () => {
  it("becomes NOT_FOUND through queries and subscriptions when its row is deleted, and comes back", async () => {
    await sql("insert into nf_people (id, name) values (1, 'Ann'), (2, 'Bob')");
    expect((await kck.gql("{ person(id: 1) { name } greeting(id: 1) }")).data).toEqual({
      person: { name: "Ann" },
      greeting: "Hello, Ann!",
    });
    const client = wsClient(kck.url);
    // Every message, errors and all: a NOT_FOUND version arrives as an error, the stream goes on.
    const messages: { data?: unknown; errors?: { extensions?: { code?: string } }[] }[] = [];
    const stop = client.subscribe(
      { query: "subscription { person(id: 1) { version value { name } } }" },
      {
        next: (message) => void messages.push(message as never),
        error: () => {},
        complete: () => {},
      },
    );
    try {
      await expect.poll(() => messages.length).toBe(1);
      await sql("delete from nf_people where id = 1");
      await expect
        .poll(async () => codeOf(await kck.gql("{ person(id: 1) { name } }")), { timeout: 10_000 })
        .toBe("NOT_FOUND");
      const gone = await kck.gql("{ person(id: 1) { name } }");
      expect(gone).toMatchObject({
        data: { person: null },
        errors: [{ message: "There is no person 1.", extensions: { code: "NOT_FOUND" } }],
      });
      // Stored as a version, not as a failure: the row says why, and holds no error.
      const stored = await kck.app.engine.inspect("person/1");
      expect(stored).toMatchObject({
        version: 2,
        notFound: "There is no person 1.",
        lastError: null,
      });
      await expect(kck.app.engine.get("person/1")).rejects.toMatchObject({ code: "NOT_FOUND" });
      // Its subscriber is told, with the same code.
      await expect.poll(() => messages.length).toBe(2);
      expect(messages[1]?.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      // A product built from it does not exist either, once the change reaches it.
      await expect
        .poll(async () => codeOf(await kck.gql("{ greeting(id: 1) }")), { timeout: 10_000 })
        .toBe("NOT_FOUND");
      expect((await kck.gql("{ person(id: 2) { name } }")).data).toEqual({
        person: { name: "Bob" },
      });

      await sql("insert into nf_people (id, name) values (1, 'Ann Again')");
      await expect.poll(() => messages.length).toBe(3);
      expect(messages[2]).toEqual({
        data: { person: { version: 3, value: { name: "Ann Again" } } },
      });
      expect((await kck.gql("{ person(id: 1) { name } }")).data).toEqual({
        person: { name: "Ann Again" },
      });
      await expect
        .poll(async () => (await kck.gql("{ greeting(id: 1) }")).data, { timeout: 10_000 })
        .toEqual({ greeting: "Hello, Ann Again!" });
    } finally {
      stop();
      await client.dispose();
    }
  });

  it("is null, stored and pushed, for a nullable primer", async () => {
    await sql("insert into nf_people (id, name) values (3, 'Cy')");
    const client = wsClient(kck.url);
    const updates = collect<{ version: number; value: string | null }>(
      client,
      "subscription { nickname(id: 3) { version value } }",
      "nickname",
    );
    try {
      await updates.until((values) => values.length === 1);
      expect(updates.values[0]).toEqual({ version: 1, value: "Cyy" });
      await sql("delete from nf_people where id = 3");
      await updates.until((values) => values.length === 2);
      expect(updates.values[1]).toEqual({ version: 2, value: null });
      expect(await kck.gql("{ nickname(id: 3) }")).toEqual({ data: { nickname: null } });
      await sql("insert into nf_people (id, name) values (3, 'Cee')");
      await updates.until((values) => values.length === 3);
      expect(updates.values[2]).toEqual({ version: 3, value: "Ceey" });
      expect(updates.errors).toEqual([]);
    } finally {
      updates.stop();
      await client.dispose();
    }
  });

  it("differs from a transient failure, which keeps the last good value", async () => {
    expect((await kck.gql("{ lookup(id: 5) }")).data).toEqual({ lookup: "found 5" });
    source.down = true;
    try {
      await expect(kck.app.engine.refresh("lookup/5")).rejects.toMatchObject({
        code: "COMPUTE_FAILED",
      });
      expect(await kck.gql("{ lookup(id: 5) }")).toEqual({ data: { lookup: "found 5" } });
      expect(await kck.app.engine.inspect("lookup/5")).toMatchObject({
        version: 1,
        notFound: null,
      });
    } finally {
      source.down = false;
    }
    // `throw notFound(…)` from anywhere in a compute says the same as ctx.notFound.
    expect(await kck.gql("{ lookup(id: 101) }")).toMatchObject({
      data: { lookup: null },
      errors: [{ message: "Nothing is stored under 101.", extensions: { code: "NOT_FOUND" } }],
    });
    // And a product that does not exist takes no delta... nor is it computed again on reads.
    const again = await kck.app.engine.inspect("lookup/101");
    await kck.gql("{ lookup(id: 101) }");
    expect((await kck.app.engine.inspect("lookup/101"))?.computeCount).toBe(again?.computeCount);
  });
});
