import { describe, expect, it } from "vitest";
import { readConfig } from "../src/config.ts";
import { definePrimer, KckError, param } from "../src/index.ts";

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return error instanceof KckError ? `${error.code}: ${error.message}` : String(error);
  }
  return "no error";
};

const base = { params: { authorId: param.int() }, type: "Int", compute: () => 1 } as const;

describe("primer refresh policies", () => {
  it("normalises sources, schedule and defaults", () => {
    const primer = definePrimer({
      ...base,
      name: "p",
      sources: [{ table: "shop.books", params: { authorId: "author_id" } }, { table: "authors" }],
      schedule: { every: "5m", readWithin: "1h" },
    });
    expect(primer.policies).toMatchObject({
      sources: [
        { schema: "shop", table: "books", columns: ["author_id"] },
        { schema: undefined, table: "authors", columns: undefined },
      ],
      schedule: { everyMs: 300_000, cron: undefined, readWithinMs: 3_600_000 },
      onDependencyChange: "refresh",
      delayMs: 100,
      maxAttempts: 10,
    });
  });

  it("rejects a source that does not map every param to a column", () => {
    expect(
      messageOf(() =>
        definePrimer({
          ...base,
          name: "p",
          sources: [{ table: "books", params: {} as { authorId: string } }],
        }),
      ),
    ).toBe(
      'BAD_CONFIG: Primer "p": source "books" must map param "authorId" to a column name; got nothing.',
    );
    expect(
      messageOf(() =>
        definePrimer({ ...base, name: "p", sources: [{ table: "books; drop table x" }] }),
      ),
    ).toMatch(/a source table must be a name such as "books"/);
  });

  it("accepts a Float param in a source mapping (its SQL key matches: test/param-keys)", () => {
    const primer = definePrimer({
      name: "p",
      params: { x: param.float() },
      type: "Int",
      compute: () => 1,
      sources: [{ table: "points", params: { x: "x" } }],
    });
    expect(primer.policies.sources[0]?.columns).toEqual(["x"]);
  });

  it("rejects a schedule without every or cron, and one with both readWithin and domain", () => {
    expect(messageOf(() => definePrimer({ ...base, name: "p", schedule: {} }))).toMatch(
      /a schedule needs `every`/,
    );
    expect(
      messageOf(() =>
        definePrimer({
          ...base,
          name: "p",
          schedule: { every: "1m", readWithin: "1h", domain: () => [] },
        }),
      ),
    ).toMatch(/takes `readWithin` or `domain`, not both/);
    expect(messageOf(() => definePrimer({ ...base, name: "p", maxAttempts: 0 }))).toMatch(
      /maxAttempts must be a whole number from 1 to 32767; got 0/,
    );
  });
});

describe("worker configuration", () => {
  it("reads KCK_WORKER and KCK_WORKER_CONCURRENCY", () => {
    expect(readConfig({})).toMatchObject({ worker: true, workerConcurrency: 4 });
    expect(readConfig({ KCK_WORKER: "0", KCK_WORKER_CONCURRENCY: "8" })).toMatchObject({
      worker: false,
      workerConcurrency: 8,
    });
    expect(messageOf(() => readConfig({ KCK_WORKER: "yes" }))).toBe(
      'BAD_CONFIG: KCK_WORKER must be 0 or 1; got "yes".',
    );
  });
});
