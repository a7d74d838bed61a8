import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../src/db/db.ts";
import { definePrimer, KckError, param } from "../src/index.ts";
import { formatKey, parseKey } from "../src/keys.ts";
import type { ParamType } from "../src/primer/params.ts";
import { keyExpression } from "../src/sql/key-expression.ts";
import { migrate } from "../src/sql/migrate.ts";
import { createTestDatabase, type TestDatabase, testDb } from "./helpers/db.ts";
import { seededRandom } from "./helpers/random.ts";

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = testDb(database.url);
  await migrate(db);
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const random = seededRandom(20261202);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** Any finite double, from random bits. */
function randomDouble(): number {
  const view = new DataView(new ArrayBuffer(8));
  for (;;) {
    view.setUint32(0, Math.floor(random() * 2 ** 32));
    view.setUint32(4, Math.floor(random() * 2 ** 32));
    const n = view.getFloat64(0);
    if (Number.isFinite(n)) return n;
  }
}

const FLOATS = [
  0,
  -0,
  1,
  -1,
  0.1,
  1 / 3,
  -2.5,
  1e-7,
  -1e-7,
  1e-6,
  1.5e-6,
  123e-20,
  1e20,
  1e21,
  1.2345e21,
  123456789012345680000,
  2 ** 53,
  2 ** 53 + 2,
  5e-324,
  2.2250738585072014e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.EPSILON,
  1e15,
  1e16,
  0.000001234,
  100,
  ...Array.from({ length: 1500 }, randomDouble),
  ...Array.from(
    { length: 500 },
    () => Math.round((random() - 0.5) * 1e6) / 10 ** pick([0, 1, 2, 3, 7, 12]),
  ),
];

const PIECES = [
  "a",
  "/",
  "%",
  "%2F",
  " ",
  "'",
  '"',
  "\\",
  "ü",
  "東京",
  "🐉",
  "€",
  "+",
  "?",
  "#",
  "&",
  "~",
  "*",
  "\n",
  "\t",
  "é",
];
const randomString = (): string =>
  Array.from({ length: Math.floor(random() * 12) }, () =>
    random() < 0.3
      ? String.fromCodePoint(1 + Math.floor(random() * 0x2ffff)).replace(/[\ud800-\udfff]/g, "x")
      : pick(PIECES),
  ).join("");
const STRINGS = [
  "",
  "/",
  "%",
  "100%",
  "a/b?c=d&e#f",
  "!'()*-._~",
  "ünïcödé 🐉 東京",
  "x".repeat(1900),
  "é".repeat(300),
  ...Array.from({ length: 1000 }, randomString),
];

const INTS = [
  0,
  1,
  -1,
  42,
  2 ** 31,
  -(2 ** 31) - 1,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  ...Array.from({ length: 300 }, () => Math.round((random() - 0.5) * 2 * Number.MAX_SAFE_INTEGER)),
];

const randomBigint = (): bigint =>
  BigInt.asIntN(
    64,
    BigInt(Math.floor(random() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(random() * 2 ** 32)),
  );
const BIGINTS = [
  0n,
  1n,
  -1n,
  2n ** 53n + 1n,
  -(2n ** 63n),
  2n ** 63n - 1n,
  ...Array.from({ length: 300 }, randomBigint),
];

interface Case<T> {
  readonly type: ParamType<T>;
  /** The column type the values are stored in. */
  readonly column: string;
  readonly values: readonly T[];
  /** How the value travels to PostgreSQL as a bind parameter. */
  readonly bind?: (value: T) => unknown;
}

const CASES: Record<string, Case<never>> = {
  int: { type: param.int(), column: "integer", values: [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)] },
  intInBigintColumn: { type: param.int(), column: "bigint", values: INTS },
  float: { type: param.float(), column: "double precision", values: FLOATS, bind: String },
  string: { type: param.string(), column: "text", values: STRINGS },
  id: { type: param.id(), column: "text", values: STRINGS.slice(0, 200) },
  boolean: { type: param.boolean(), column: "boolean", values: [true, false] },
  bigint: { type: param.bigint(), column: "bigint", values: BIGINTS, bind: String },
} as never;

describe("keys built in SQL equal keys built in JavaScript", () => {
  for (const [name, { type, column, values, bind }] of Object.entries(CASES)) {
    it(`for ${name} params (${values.length} values, edge values included)`, async () => {
      const primer = definePrimer({
        name: "pk",
        params: { v: type as ParamType<unknown> },
        type: "Int",
        compute: () => 0,
      });
      const table = `pk_${name.toLowerCase()}`;
      await db.query(`create table ${table} (i integer primary key, v ${column})`);
      await db.query(
        `insert into ${table} (i, v) select i, v from unnest($1::${column}[]) with ordinality as u(v, i)`,
        [values.map((value) => (bind ? bind(value) : value))],
      );
      const { rows } = await db.query<{ key: string | null }>(
        `select ${keyExpression(primer, ["v"], "r")} as key from ${table} as r order by r.i`,
      );
      const inSql = rows.map((row) => row.key);
      const inJs = values.map((v) => formatKey(primer, { v }));
      expect(inSql).toEqual(inJs);
      // And each parses back to exactly its value (-0 aside: its key is "0", as for 0).
      const primers = new Map([["pk", primer]]);
      expect(inJs.map((key) => parseKey(primers, key).params["v"])).toEqual(
        values.map((v) => (Object.is(v, -0) ? 0 : v)),
      );
    });
  }

  it("for float params in a real column, as the pg driver reads them", async () => {
    const primer = definePrimer({
      name: "pk",
      params: { v: param.float() },
      type: "Int",
      compute: () => 0,
    });
    const values = [
      ...FLOATS.slice(0, 27),
      16777217,
      3.4e38,
      1.5e-38,
      ...Array.from({ length: 300 }, () => (random() - 0.5) * 10 ** Math.floor(random() * 70 - 35)),
    ];
    await db.query("create table pk_real (i integer primary key, v real)");
    await db.query(
      `insert into pk_real (i, v) select i, v::real from unnest($1::float8[]) with ordinality as u(v, i)
       where v = 0 or abs(v) between 1.2e-38 and 3.4e38`,
      [values.map(String)],
    );
    const { rows } = await db.query<{ key: string | null; v: number }>(
      `select ${keyExpression(primer, ["v"], "r")} as key, r.v from pk_real as r order by r.i`,
    );
    expect(rows.length).toBeGreaterThan(300);
    expect(rows.map((row) => row.key)).toEqual(rows.map((row) => formatKey(primer, { v: row.v })));
  });

  it("writes null (no refresh) for column values no key of the param can hold", async () => {
    const ints = definePrimer({
      name: "pkI",
      params: { v: param.int() },
      type: "Int",
      compute: () => 0,
    });
    const big = definePrimer({
      name: "pkB",
      params: { v: param.bigint() },
      type: "Int",
      compute: () => 0,
    });
    const floats = definePrimer({
      name: "pkF",
      params: { v: param.float() },
      type: "Int",
      compute: () => 0,
    });
    const { rows } = await db.query(
      `select ${keyExpression(ints, ["v"], "r")} as i, ${keyExpression(big, ["w"], "r")} as b,
              ${keyExpression(floats, ["f"], "r")} as f
       from (values (1.5::numeric, 1e19::numeric, 'NaN'::float8),
                    (2::numeric ^ 53, -1e19::numeric, 'Infinity'::float8)) as r(v, w, f)`,
    );
    expect(rows).toEqual([
      { i: null, b: null, f: null },
      { i: null, b: null, f: null },
    ]);
  });

  it("refuses a bigint param out of 64 bits, and a number where a bigint is declared", () => {
    const big = definePrimer({
      name: "pkB",
      params: { v: param.bigint() },
      type: "Int",
      compute: () => 0,
    });
    expect(() => formatKey(big, { v: 2n ** 63n })).toThrow(KckError);
    expect(() => formatKey(big, { v: 5 })).toThrow('param "v": expected a 64-bit whole number');
    expect(() => parseKey(new Map([["pkB", big]]), "pkB/9223372036854775808")).toThrow(
      "expected a 64-bit whole number",
    );
    expect(() => parseKey(new Map([["pkB", big]]), "pkB/007")).toThrow(KckError);
  });
});
