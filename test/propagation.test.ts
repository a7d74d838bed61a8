import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chainA,
  chainB,
  chainC,
  computed,
  lazyA,
  lazyB,
  ring,
  setup,
} from "./fixtures/jobs/primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [chainA, chainB, chainC, lazyA, lazyB, ring],
    setups: [setup],
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => kck.app.engine.db.query(text, values);
const product = (key: string) => kck.app.engine.inspect(key);
const pendingJobs = async () =>
  (await sql("select count(*)::int as n from graphile_worker.jobs")).rows[0]?.["n"];
const settled = () => expect.poll(pendingJobs, { timeout: 15_000, interval: 20 }).toBe(0);
const state = async (key: string) => {
  const p = await product(key);
  return p && { value: p.value, version: p.version, computeCount: p.computeCount };
};

describe("dependency propagation", () => {
  it("refreshes a chain A <- B <- C and stops where a value did not change", async () => {
    await sql("insert into jt_values (n, v) values (1, 5)");
    await settled();
    expect(await kck.app.engine.get("chainC/1")).toBe(0);
    expect(await kck.app.engine.edges("chainB/1")).toEqual({
      dependencies: ["chainA/1"],
      dependents: ["chainC/1"],
    });

    // A: 5 -> 7 changes A, but B (A's tens) stays 0: C is not refreshed.
    await sql("update jt_values set v = 7 where n = 1");
    await expect.poll(() => state("chainB/1")).toMatchObject({ computeCount: 2 });
    await settled();
    expect(await state("chainA/1")).toEqual({ value: 7, version: 2, computeCount: 2 });
    expect(await state("chainB/1")).toEqual({ value: 0, version: 1, computeCount: 2 });
    expect(await state("chainC/1")).toEqual({ value: 0, version: 1, computeCount: 1 });

    // A: 7 -> 25 changes B to 2, so C follows: 4.
    await sql("update jt_values set v = 25 where n = 1");
    await expect.poll(() => state("chainC/1")).toEqual({ value: 4, version: 2, computeCount: 2 });
    await settled();
    expect(await state("chainB/1")).toEqual({ value: 2, version: 2, computeCount: 3 });
    expect(computed.get("chainC/1")).toBe(2);
  });

  it("invalidates, transitively, the dependents that choose invalidate", async () => {
    await sql("insert into jt_values (n, v) values (2, 1)");
    await settled();
    expect(await kck.app.engine.get("lazyB/2")).toBe(1002);
    await sql("update jt_values set v = 2 where n = 2");
    await expect
      .poll(async () => (await kck.app.engine.inspect("lazyB/2"))?.freshUntil)
      .not.toBeNull();
    await settled();
    const [a, b] = await Promise.all([product("lazyA/2"), product("lazyB/2")]);
    expect(a?.freshUntil?.getTime()).toBeLessThanOrEqual(Date.now());
    expect(b?.freshUntil?.getTime()).toBeLessThanOrEqual(Date.now());
    // Marked expired, not recomputed: the next read does that.
    expect(computed.get("lazyA/2")).toBe(1);
    expect(computed.get("lazyB/2")).toBe(1);
    expect(await kck.app.engine.get("lazyB/2")).toBe(1003);
    expect(computed.get("lazyB/2")).toBe(2);
  });

  it("names the keys of a dependency cycle and does not loop", async () => {
    await sql("insert into jt_values (n, v) values (11, 1), (12, 2)");
    await sql("insert into jt_settings (name, value) values ('ring:11:12', 1)");
    await settled();
    expect(await kck.app.engine.get("ring/11")).toBe(3);
    // ring/12 now reads ring/11, which read ring/12: the stored graph has a cycle.
    await sql("insert into jt_settings (name, value) values ('ring:12:11', 1)");
    expect((await kck.app.engine.refresh("ring/12")).value).toBe(5);
    await expect
      .poll(async () => (await product("ring/11"))?.lastError)
      .toBe(
        "Dependency cycle: ring/11 → ring/12 → ring/11. A product cannot read itself, directly or through others; it is not refreshed along this edge.",
      );
    await settled();
    expect(computed.get("ring/11")).toBe(1);
    expect(computed.get("ring/12")).toBe(2);
  });
});
