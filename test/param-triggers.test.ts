import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Queryable } from "../src/db/db.ts";
import { definePrimer, param } from "../src/index.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

async function setup(db: Queryable): Promise<void> {
  await db.query(`create table if not exists pt_rows (
    account_id bigint not null, ratio double precision not null, amount bigint not null)`);
}

/** The sum of an account's amounts: a 64-bit key and a 64-bit value. */
const accountTotal = definePrimer({
  name: "ptAccountTotal",
  params: { accountId: param.bigint() },
  type: "BigInt",
  sources: [{ table: "pt_rows", params: { accountId: "account_id" } }],
  async compute({ accountId }, ctx) {
    const [row] = await ctx.sql<{ total: string }>(
      "select coalesce(sum(amount), 0)::text as total from pt_rows where account_id = $1",
      [String(accountId)],
    );
    return BigInt(row?.total ?? "0");
  },
});

/** How many rows carry one ratio: a float key. */
const ratioCount = definePrimer({
  name: "ptRatioCount",
  params: { ratio: param.float() },
  type: "Int",
  sources: [{ table: "pt_rows", params: { ratio: "ratio" } }],
  async compute({ ratio }, ctx) {
    const [row] = await ctx.sql<{ n: number }>(
      "select count(*)::int as n from pt_rows where ratio = $1",
      [ratio],
    );
    return row?.n ?? 0;
  },
});

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [accountTotal, ratioCount],
    setups: [setup],
    poolSize: 3,
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const BIG = "9223372036854775807";
const TOTAL = `query ($id: BigInt!) { ptAccountTotal(accountId: $id) }`;

describe("params whose SQL and JavaScript forms differ reach their triggers", () => {
  it("refreshes a product keyed by a float PostgreSQL prints in another form", async () => {
    for (const ratio of [1e-7, 1e21, 123456789012345680000, -0.5]) {
      expect(await kck.app.engine.get(ratioCount, { ratio })).toBe(0);
      await kck.app.engine.db.query(
        "insert into pt_rows (account_id, ratio, amount) values (1, $1, 1)",
        [String(ratio)],
      );
      const key = kck.app.engine.resolve(ratioCount, { ratio }).key;
      await expect.poll(async () => (await kck.app.engine.inspect(key))?.value).toBe(1);
    }
  });

  it("serves 64-bit params and values as exact decimal strings, refreshed by their trigger", async () => {
    expect(await kck.gql(TOTAL, { id: BIG })).toEqual({ data: { ptAccountTotal: "0" } });
    await kck.app.engine.db.query(
      "insert into pt_rows (account_id, ratio, amount) values ($1, 0, $2), ($1, 0, $2)",
      [BIG, "4611686018427387903"],
    );
    await expect
      .poll(async () => (await kck.app.engine.inspect(`ptAccountTotal/${BIG}`))?.value)
      .toBe("9223372036854775806");
    expect(await kck.gql(TOTAL, { id: BIG })).toEqual({
      data: { ptAccountTotal: "9223372036854775806" },
    });
    // A literal works too; past 64 bits, or a float, is refused with a clear message.
    expect(await kck.gql(`{ ptAccountTotal(accountId: ${BIG}) }`)).toEqual({
      data: { ptAccountTotal: "9223372036854775806" },
    });
    for (const bad of ["9223372036854775808", "1.5", "", "0x10"]) {
      const { errors } = await kck.gql(TOTAL, { id: bad });
      expect(errors?.[0]?.message).toContain("Expected a 64-bit integer");
    }
    expect((await kck.gql(TOTAL, { id: 2 ** 53 })).errors?.[0]?.message).toContain(
      "Expected a 64-bit integer",
    );
  });
});
