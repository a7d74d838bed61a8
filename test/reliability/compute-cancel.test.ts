import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePrimer, param } from "../../src/index.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { recordCounts } from "../helpers/reliability.ts";

let database: TestDatabase;
let faults = 0;

/** Runs SQL that sleeps far longer than its primer's timeout. */
const sleeper = definePrimer({
  name: "sleeper",
  params: { id: param.int() },
  type: "Int",
  timeout: "300ms",
  compute: async ({ id }, ctx) => {
    await ctx.sql("select pg_sleep(30) as slept");
    return id;
  },
});

/** Times out after a few seconds, while its SQL would sleep on for longer. */
const dozer = definePrimer({
  name: "dozer",
  params: { id: param.int() },
  type: "Int",
  timeout: "4s",
  compute: async ({ id }, ctx) => {
    await ctx.sql("select pg_sleep(8) as dozed");
    return id;
  },
});

const plain = definePrimer({
  name: "plain",
  params: { id: param.int() },
  type: "Int",
  compute: ({ id }) => id * 10,
});

const primers = [sleeper, dozer, plain];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
  await recordCounts({ faultsInjected: faults });
});

/** How many statements of this database are running `pattern` now (the asker's excluded). */
async function running(app: TestApp, pattern: string): Promise<number> {
  const { rows } = await app.app.engine.db.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
     where datname = current_database() and pid <> pg_backend_pid() and state = 'active'
       and query like $1`,
    [`%${pattern}%`],
  );
  return rows[0]?.n ?? 0;
}

describe("a compute whose SQL outlives its timeout", () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ databaseUrl: database.url, primers, poolSize: 3 });
    b = await startTestApp({ databaseUrl: database.url, primers, poolSize: 3 });
  });
  afterAll(() => Promise.all([a?.stop(), b?.stop()]));

  it("has its statement cancelled when it times out", async () => {
    faults++;
    const { errors } = await a.gql("{ sleeper(id: 1) }");
    expect(errors?.[0]?.extensions?.["code"]).toBe("TIMEOUT");
    expect(await running(a, "pg_sleep(30)")).toBe(0);
  });

  it("never runs two attempts of one key at once, across instances", async () => {
    faults++;
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) most = Math.max(most, await running(a, "pg_sleep(30)"));
    })();
    const attempts = async (app: TestApp) => {
      const codes: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const { errors } = await app.gql("{ sleeper(id: 2) }");
        codes.push(errors?.[0]?.extensions?.["code"]);
      }
      return codes;
    };
    const codes = (await Promise.all([attempts(a), attempts(b), attempts(a)])).flat();
    sampling = false;
    await sampler;
    // Each request either timed out itself or waited for the other instance's attempt.
    expect(codes.every((code) => code === "TIMEOUT")).toBe(true);
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBe(1);
    expect(await running(a, "pg_sleep(30)")).toBe(0);
  });
});

describe("reads while slow computes time out", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: database.url, primers, poolSize: 2, memory: false });
  });
  afterAll(() => app?.stop());

  it("serves a stored product before any slow compute has given up", async () => {
    faults++;
    expect((await app.gql("{ plain(id: 1) }")).data).toEqual({ plain: 10 });
    let settled = 0;
    const slow = [1, 2, 3, 4].map((id) =>
      app.gql(`{ dozer(id: ${id}) }`).finally(() => {
        settled++;
      }),
    );
    // As many slow statements as the app runs computes at once are under way.
    await expect.poll(() => running(app, "pg_sleep(8)"), { timeout: 20_000 }).toBe(2);
    expect((await app.gql("{ plain(id: 1) }")).data).toEqual({ plain: 10 });
    const settledAtRead = settled;
    const answers = await Promise.all(slow);
    expect(settledAtRead).toBe(0);
    for (const answer of answers) expect(answer.errors?.[0]?.extensions?.["code"]).toBe("TIMEOUT");
    expect(await running(app, "pg_sleep(8)")).toBe(0);
  });
});
