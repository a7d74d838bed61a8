import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MemoryLayer } from "../src/engine/memory-layer.ts";
import type { StoredProduct } from "../src/engine/product.ts";
import { pureQueryCheck } from "../src/gateway/server/pure-query.ts";
import { ResponseCache } from "../src/gateway/server/response-cache.ts";
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

const statements = () => kck.app.engine.db.stats.statements;
const cached = () => kck.app.responseCache?.stats() ?? { entries: 0, hits: 0, bytes: 0 };

/** Resolves when this instance hears the change event of `key`. */
const eventOf = (key: string) =>
  new Promise<void>((resolve) => {
    const off = kck.app.engine.onChange((event) => {
      if (event.k !== key) return;
      off();
      resolve();
    });
  });

describe("the response fast path", () => {
  it("answers a repeated pure query without GraphQL or SQL", async () => {
    const query = "{ square(n: 3) { n square } }";
    expect(await kck.gql(query)).toEqual({ data: { square: { n: 3, square: 9 } } });
    // The first answer came from the compute; the second reads the stored product once.
    expect(await kck.gql(query)).toEqual({ data: { square: { n: 3, square: 9 } } });
    const before = { statements: statements(), hits: cached().hits };
    expect(await kck.gql(query)).toEqual({ data: { square: { n: 3, square: 9 } } });
    expect(statements()).toBe(before.statements);
    expect(cached().hits).toBe(before.hits + 1);
  });

  it("answers identical requests in flight once", async () => {
    const stored = eventOf("square/40");
    await kck.app.engine.get("square/40");
    await stored;
    const before = statements();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => kck.gql("{ square(n: 40) { square } }")),
    );
    expect(answers).toEqual(Array(30).fill({ data: { square: { square: 1600 } } }));
    // One read of the stored product for all thirty: the others waited for it or hit its answer.
    expect(statements() - before).toBe(1);
  });

  it("keeps one answer per accept header, with the content type it asked for", async () => {
    const post = (accept: string) =>
      fetch(kck.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept },
        body: JSON.stringify({ query: "{ square(n: 41) { square } }" }),
      });
    await kck.gql("{ square(n: 41) { square } }");
    for (let n = 0; n < 2; n++) {
      const plain = await post("application/json");
      expect(plain.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await plain.json()).toEqual({ data: { square: { square: 1681 } } });
      const spec = await post("application/graphql-response+json");
      expect(spec.headers.get("content-type")).toMatch(/^application\/graphql-response\+json/);
      expect(await spec.json()).toEqual({ data: { square: { square: 1681 } } });
    }
  });

  it("does not keep answers of mutations, of product metadata, or with a failed product", async () => {
    await kck.gql("{ square(n: 42) { square } }");
    for (let n = 0; n < 2; n++) {
      await kck.gql('mutation { refresh(key: "square/42") { version } }');
    }
    expect(calls.get("square/42")).toBe(3);
    const meta = '{ product(key: "square/42") { computeCount } }';
    await kck.gql(meta);
    expect(await kck.gql(meta)).toEqual({ data: { product: { computeCount: 3 } } });

    control.fail = true;
    const failed = await kck.gql('{ flaky(id: "x") }');
    expect(failed.errors?.[0]?.extensions?.["code"]).toBe("COMPUTE_FAILED");
    control.fail = false;
    expect(await kck.gql('{ flaky(id: "x") }')).toEqual({ data: { flaky: "ok:x:2" } });
  });

  it("leaves GET requests to yoga", async () => {
    const response = await fetch(
      `${kck.url}?query=${encodeURIComponent("{ square(n: 43) { square } }")}`,
      {
        headers: { accept: "application/json" },
      },
    );
    expect(await response.json()).toEqual({ data: { square: { square: 1849 } } });
  });
});

describe("pure queries", () => {
  const isPure = pureQueryCheck({ primerNames: new Set(["square", "flaky"]), maxTokens: 100 });

  it("are queries of primer fields only", () => {
    expect(isPure("{ square(n: 1) { n } }", undefined)).toBe(true);
    expect(
      isPure('query Q($n: Int!) { a: square(n: $n) { n } b: flaky(id: "x") __typename }', null),
    ).toBe(true);
    expect(isPure("{ square(n: 1) @include(if: true) { n } }", undefined)).toBe(true);
  });

  it("are not mutations, metadata reads, top-level fragments or unparseable text", () => {
    expect(isPure('mutation { refresh(key: "square/1") { version } }', undefined)).toBe(false);
    expect(isPure('{ product(key: "square/1") { version } }', undefined)).toBe(false);
    expect(isPure('{ square(n: 1) { n } product(key: "square/1") { version } }', undefined)).toBe(
      false,
    );
    expect(isPure("{ ...F } fragment F on Query { square(n: 1) { n } }", undefined)).toBe(false);
    expect(isPure("{ square(n: 1) { n }", undefined)).toBe(false);
    expect(isPure(42, undefined)).toBe(false);
  });

  it("are not documents past the token limit, which are not parsed past it", () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: square(n: 1) { n }`);
    // 11 tokens per field, plus the braces.
    expect(isPure(`{ ${fields(8).join(" ")} }`, undefined)).toBe(true);
    expect(isPure(`{ ${fields(10).join(" ")} }`, undefined)).toBe(false);
    // A megabyte of tokens costs what the first hundred do (no timing here: it just answers).
    expect(isPure(`{ ${fields(100_000).join(" ")} }`, undefined)).toBe(false);
  });

  it("pick the named operation of several", () => {
    const text =
      'query A { square(n: 1) { n } } mutation B { invalidate(key: "square/1") { version } }';
    expect(isPure(text, "A")).toBe(true);
    expect(isPure(text, "B")).toBe(false);
    expect(isPure(text, undefined)).toBe(false);
  });
});

describe("the response cache's cap", () => {
  it("keeps at most maxEntries answers and drops those whose products changed", async () => {
    const memory = new MemoryLayer();
    const rows = new Map(
      [1, 2, 3].map((n) => [
        `p/${n}`,
        {
          key: `p/${n}`,
          value: n,
          version: 1,
          computedAt: new Date(),
          freshUntil: null,
          staleUntil: null,
        } as StoredProduct,
      ]),
    );
    const held = await memory.read([...rows.keys()], async () => rows);
    const cache = new ResponseCache(memory, { maxEntries: 2 });
    const answer = (n: number, product: StoredProduct) => ({
      answer: { headers: [], body: String(n), etag: `"${n}"` },
      body: Buffer.from(String(n)),
      products: [product],
      targets: [],
    });
    for (const n of [1, 2, 3]) {
      expect(cache.set(`q${n}`, answer(n, held.get(`p/${n}`) as StoredProduct))).toBe(true);
    }
    expect(cache.stats().entries).toBe(2);
    expect(cache.get("q1")).toBeUndefined();
    expect(cache.get("q3")?.body.toString()).toBe("3");
    memory.changed("p/3");
    expect(cache.get("q3")).toBeUndefined();
    // A product the memory layer does not hold (any more) cannot back an answer.
    expect(cache.set("q4", answer(4, held.get("p/3") as StoredProduct))).toBe(false);
  });

  const row = (key: string): StoredProduct =>
    ({
      key,
      value: key,
      version: 1,
      computedAt: new Date(),
      freshUntil: null,
      staleUntil: null,
    }) as StoredProduct;
  const built = (product: StoredProduct, body: string) => ({
    answer: { headers: [], body, etag: '"e"' },
    body: Buffer.from(body),
    products: [product],
    targets: [],
  });

  it("keeps the products of answers it serves in the memory layer, as recently used", async () => {
    const memory = new MemoryLayer({ maxEntries: 2 });
    const one = (await memory.read(["p/1"], async () => new Map([["p/1", row("p/1")]]))).get("p/1");
    await memory.read(["p/2"], async () => new Map([["p/2", row("p/2")]]));
    const cache = new ResponseCache(memory);
    expect(cache.set("q1", built(one as StoredProduct, "1"))).toBe(true);
    // Served from the cache only (p/1 not read from the layer since): p/1 is used, p/2 is not.
    expect(cache.get("q1")).toBeDefined();
    await memory.read(["p/3"], async () => new Map([["p/3", row("p/3")]]));
    expect(memory.peek("p/2")).toBeUndefined();
    expect(memory.peek("p/1")).toBe(one);
    expect(cache.get("q1")?.body.toString()).toBe("1");
  });

  it("keeps its bytes under maxBytes, least recently used out first, and refuses larger answers", async () => {
    const memory = new MemoryLayer();
    const keys = Array.from({ length: 10 }, (_, n) => `p/${n}`);
    const held = await memory.read(keys, async () => new Map(keys.map((k) => [k, row(k)])));
    const cache = new ResponseCache(memory, { maxBytes: 10_000 });
    const body = "x".repeat(500);
    for (const [n, key] of keys.entries()) {
      expect(cache.set(`q${n}`, built(held.get(key) as StoredProduct, body))).toBe(true);
      // Full (seven answers of about 1.4 kB): q0, the oldest, is used once more.
      if (n === 6) expect(cache.get("q0")).toBeDefined();
    }
    const { entries, bytes } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(10_000);
    expect(bytes).toBeGreaterThan(10_000 - 1500);
    expect(entries).toBe(7);
    // q1, q2 and q3 made room for q7, q8 and q9; q0, used since, stays.
    expect(cache.get("q1")).toBeUndefined();
    expect(cache.get("q0")).toBeDefined();
    expect(cache.get("q9")).toBeDefined();
    expect(cache.set("big", built(held.get("p/0") as StoredProduct, "y".repeat(6000)))).toBe(false);
    expect(cache.get("q0")).toBeDefined();
  });
});
