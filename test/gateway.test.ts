import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { calls, control, fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

beforeEach(() => {
  control.fail = false;
  control.delayMs = 0;
});

const meta = async (key: string) => {
  const { data } = await kck.gql<{ product: Record<string, unknown> | null }>(
    `query ($key: String!) { product(key: $key) { key version computeCount state lastError errorCount value
       dependencies { key } dependents { key } } }`,
    { key },
  );
  return data?.product;
};

describe("query fields", () => {
  it("computes a product on the first request and serves it from the cache after", async () => {
    const query = "{ square(n: 7) { n square } }";
    expect(await kck.gql(query)).toEqual({ data: { square: { n: 7, square: 49 } } });
    expect(await kck.gql(query)).toEqual({ data: { square: { n: 7, square: 49 } } });
    expect(calls.get("square/7")).toBe(1);
    expect(await meta("square/7")).toMatchObject({
      version: 1,
      computeCount: 1,
      state: "FRESH",
      lastError: null,
    });
  });

  it("reads every product of an operation with one SQL statement", async () => {
    const fields = Array.from(
      { length: 50 },
      (_, i) => `s${i}: square(n: ${1000 + i}) { square }`,
    ).join("\n");
    const first = await kck.gql<Record<string, { square: number }>>(`{ ${fields} }`);
    expect(first.errors).toBeUndefined();
    const stats = kck.app.engine.db.stats;
    const before = stats.statements;
    const second = await kck.gql<Record<string, { square: number }>>(`{ ${fields} }`);
    expect(stats.statements - before).toBe(1);
    expect(second.data?.["s49"]).toEqual({ square: 1049 * 1049 });
    expect(Object.keys(second.data ?? {})).toHaveLength(50);
  });

  it("records dependencies and computes only what a request needs", async () => {
    const { data } = await kck.gql<{ sumOfSquares: number }>("{ sumOfSquares(n: 3) }");
    expect(data?.sumOfSquares).toBe(1 + 4 + 9);
    expect(calls.get("square/4")).toBeUndefined();
    const product = await meta("sumOfSquares/3");
    expect(product?.["dependencies"]).toEqual([
      { key: "square/1" },
      { key: "square/2" },
      { key: "square/3" },
    ]);
    expect(await meta("square/2")).toMatchObject({ dependents: [{ key: "sumOfSquares/3" }] });
    // A later, larger product reuses the stored squares and computes only the new ones.
    await kck.gql("{ sumOfSquares(n: 4) }");
    expect(calls.get("square/3")).toBe(1);
    expect(calls.get("square/4")).toBe(1);
  });

  it("fails one field, keeps the others, stores nothing and records the error", async () => {
    control.fail = true;
    const result = await kck.gql<{ flaky: string | null; square: { square: number } }>(
      '{ flaky(id: "a") square(n: 2) { square } }',
    );
    expect(result.data).toEqual({ flaky: null, square: { square: 4 } });
    expect(result.errors).toEqual([
      expect.objectContaining({
        message: "Computing flaky/a failed: source for a is down",
        path: ["flaky"],
        extensions: { code: "COMPUTE_FAILED" },
      }),
    ]);
    expect(await meta("flaky/a")).toMatchObject({
      version: 0,
      computeCount: 0,
      value: null,
      state: "MISSING",
      errorCount: 1,
    });
    expect((await meta("flaky/a"))?.["lastError"]).toMatch(/source for a is down/);
  });

  it("keeps the last good value when a refresh fails", async () => {
    control.fail = false;
    const { data } = await kck.gql<{ flaky: string }>('{ flaky(id: "b") }');
    expect(data?.flaky).toBe("ok:b:1");
    control.fail = true;
    const refresh = await kck.gql('mutation { refresh(key: "flaky/b") { version } }');
    expect(refresh.errors?.[0]?.message).toBe("Computing flaky/b failed: source for b is down");
    expect(await kck.gql('{ flaky(id: "b") }')).toEqual({ data: { flaky: "ok:b:1" } });
    expect(await meta("flaky/b")).toMatchObject({
      version: 1,
      value: "ok:b:1",
      state: "FRESH",
      errorCount: 1,
    });
  });

  it("serves a stale product at once and refreshes it once in the background", async () => {
    // Long enough that the twenty reads below are answered before the refresh ends, even on a
    // loaded machine.
    control.delayMs = 1000;
    await kck.gql("{ clock(id: 1) }");
    expect(calls.get("clock/1")).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    const reads = await Promise.all(
      Array.from({ length: 20 }, () => kck.gql<{ clock: number }>("{ clock(id: 1) }")),
    );
    // All twenty were answered from the stale value, without waiting for the refresh.
    expect(reads.map((r) => r.data?.clock)).toEqual(Array(20).fill(1));
    await expect.poll(async () => (await meta("clock/1"))?.["version"], { timeout: 5000 }).toBe(2);
    expect(calls.get("clock/1")).toBe(2);
    expect(await kck.gql("{ clock(id: 1) }")).toEqual({ data: { clock: 2 } });
  });

  it("reports a dependency cycle with the keys in it", async () => {
    const { errors } = await kck.gql("{ loopA(n: 1) }");
    expect(errors?.[0]?.extensions?.["code"]).toBe("DEPENDENCY_CYCLE");
    expect(errors?.[0]?.message).toContain("loopA/1 → loopB/1 → loopA/1");
  });

  it("rejects bad arguments with GraphQL validation errors and writes nothing", async () => {
    const rows = async () =>
      (await kck.app.engine.db.query("select count(*)::int as n from kck.products")).rows[0];
    const before = await rows();
    const { errors } = await kck.gql('{ square(n: "x") { n } }');
    expect(errors?.[0]?.message).toMatch(/Int cannot represent/);
    const huge = await kck.gql("{ square(n: 99999999999) { n } }");
    expect(huge.errors?.[0]?.message).toMatch(/Int cannot represent non 32-bit signed integer/);
    expect(await rows()).toEqual(before);
  });
});

describe("product(key)", () => {
  it("is null for a key never stored and computes nothing", async () => {
    expect(await meta("square/123456")).toBeNull();
    expect(calls.get("square/123456")).toBeUndefined();
  });

  it("gives a clear error for a bad key", async () => {
    const { errors } = await kck.gql('{ product(key: "square/abc") { key } }');
    expect(errors?.[0]).toMatchObject({
      message:
        'Key "square/abc": param "n" of primer "square" expected a whole number written in decimal without leading zeros; got "abc".',
      extensions: { code: "BAD_KEY" },
    });
  });
});

describe("mutations", () => {
  it("refresh recomputes and bumps the version only when the value changes", async () => {
    await kck.gql("{ square(n: 11) { square } }");
    const { data } = await kck.gql<{ refresh: { version: number; computeCount: number } }>(
      'mutation { refresh(key: "square/11") { version computeCount } }',
    );
    expect(data?.refresh).toEqual({ version: 1, computeCount: 2 });
    const clockRefresh = await kck.gql<{ refresh: { version: number } }>(
      'mutation { refresh(key: "clock/9") { version } }',
    );
    expect(clockRefresh.data?.refresh.version).toBe(1);
    const again = await kck.gql<{ refresh: { version: number } }>(
      'mutation { refresh(key: "clock/9") { version } }',
    );
    expect(again.data?.refresh.version).toBe(2);
  });

  it("invalidate makes the next read recompute", async () => {
    await kck.gql("{ square(n: 12) { square } }");
    const { data } = await kck.gql<{ invalidate: { state: string } }>(
      'mutation { invalidate(key: "square/12") { state } }',
    );
    expect(data?.invalidate.state).toBe("EXPIRED");
    await kck.gql("{ square(n: 12) { square } }");
    expect(calls.get("square/12")).toBe(2);
    expect(await kck.gql('mutation { invalidate(key: "square/77777") { state } }')).toEqual({
      data: { invalidate: null },
    });
  });

  it("prime computes products ahead of demand (as jobs), and one bad key primes nothing", async () => {
    const bad = await kck.gql('mutation { prime(keys: ["square/500", "square/oops"]) }');
    expect(bad.errors?.[0]?.extensions?.["code"]).toBe("BAD_KEY");
    expect(await meta("square/500")).toBeNull();
    const { data } = await kck.gql<{ prime: string[] }>(
      'mutation { prime(keys: ["square/500", "square/%35%30%31"]) }',
    );
    expect(data?.prime).toEqual(["square/500", "square/501"]);
    await expect
      .poll(() => meta("square/501"), { timeout: 10_000 })
      .toMatchObject({ version: 1, computeCount: 1 });
    await expect.poll(() => meta("square/500"), { timeout: 10_000 }).toMatchObject({ version: 1 });
    await kck.gql("{ square(n: 500) { square } }");
    expect(calls.get("square/500")).toBe(1);
  });
});

describe("errors", () => {
  it("masks unexpected errors for clients", async () => {
    const lines: string[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => lines.push(line) });
    const other = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers, log });
    try {
      await other.app.engine.db.close();
      const { errors } = await other.gql("{ square(n: 3) { n } }");
      expect(errors?.[0]?.message).toBe("Unexpected error.");
      expect(JSON.stringify(errors)).not.toMatch(/pool/i);
      // The log has the whole cause.
      expect(lines.join("\n")).toMatch(
        /Cannot use a pool after calling end.*"msg":"unexpected error"/,
      );
    } finally {
      await other.stop();
    }
  });
});
