import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { Queryable } from "../src/db/db.ts";
import type { TypedProduct } from "../src/engine/compute-context.ts";
import { defineObject, definePrimer, KckError, param } from "../src/index.ts";
import { startTestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const Row = defineObject<{ n: number; etag: string }>("AuRow", (t) => ({
  n: t.exposeInt("n"),
  etag: t.exposeString("etag"),
}));

const counted = definePrimer({
  name: "auCounted",
  params: { id: param.int() },
  type: Row,
  async compute({ id }, ctx) {
    const previous = await ctx.previous();
    // ctx.previous() carries the primer's value type: no cast needed to read the value.
    expectTypeOf(previous).toEqualTypeOf<TypedProduct<{ n: number; etag: string }> | undefined>();
    const rows = await ctx.sql<{ n: number }>("select count(*)::int as n from au_rows");
    return { n: (rows[0]?.n ?? 0) + id, etag: `${previous?.value.etag ?? ""}.` };
  },
});

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe("authoring traps", () => {
  it("refuses a param name that is not a GraphQL name, naming the primer and the param", () => {
    for (const name of ["bad-name", "1st", "__x", "ünï", ""]) {
      const attempt = () =>
        definePrimer({
          name: "auBad",
          params: { [name]: param.int() },
          type: "Int",
          compute: () => 1,
        });
      expect(attempt).toThrow(KckError);
      expect(attempt).toThrow(`Primer "auBad" has a param named ${JSON.stringify(name)}`);
    }
    expect(() =>
      definePrimer({ name: "au-bad", params: {}, type: "Int", compute: () => 1 }),
    ).toThrow('got "au-bad"');
  });

  it("runs a module's setup in one transaction: a failure half-way leaves nothing", async () => {
    let fail = true;
    let runs = 0;
    const setup = async (db: Queryable) => {
      runs++;
      await db.query("create table au_rows (id int primary key)");
      await db.query("insert into au_rows select generate_series(1, 5)");
      if (fail) throw new Error("the seed's second half failed");
    };
    const first = startTestApp({
      databaseUrl: database.url,
      primers: [counted],
      setups: [setup],
      poolSize: 2,
    });
    await expect(first).rejects.toThrow("the seed's second half failed");
    fail = false;
    const kck = await startTestApp({
      databaseUrl: database.url,
      primers: [counted],
      setups: [setup],
      poolSize: 2,
    });
    try {
      // The second start ran the setup again, from nothing (a half-made table would make its
      // `create table` fail).
      expect(runs).toBe(2);
      expect(await kck.app.engine.get(counted, { id: 1 })).toEqual({ n: 6, etag: "." });
      await kck.app.engine.refresh("auCounted/1");
      expect(await kck.app.engine.get(counted, { id: 1 })).toEqual({ n: 6, etag: ".." });
    } finally {
      await kck.stop();
    }
  });
});
