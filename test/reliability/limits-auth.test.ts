import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/gateway/plugins/use-limits.ts";
import { calls, fixturePrimers } from "../fixtures/counting.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let database: TestDatabase;
let open: TestApp;
let guarded: TestApp;
let production: TestApp;

const productRows = async () =>
  (await open.app.engine.db.query<{ n: number }>("select count(*)::int as n from kck.products"))
    .rows[0]?.n;

beforeAll(async () => {
  database = await createTestDatabase();
  open = await startTestApp({
    databaseUrl: database.url,
    primers: fixturePrimers,
    limits: { ...DEFAULT_LIMITS, depth: 4, aliases: 20, tokens: 400, bodyBytes: 20_000, batch: 2 },
  });
  guarded = await startTestApp({
    databaseUrl: database.url,
    primers: fixturePrimers,
    auth: { adminToken: "admin-secret", readToken: "reader-secret" },
  });
  production = await startTestApp({
    databaseUrl: database.url,
    primers: fixturePrimers,
    auth: { production: true },
  });
});

afterAll(async () => {
  await Promise.all([open?.stop(), guarded?.stop(), production?.stop()]);
  await database?.drop();
});

describe("limits", () => {
  it("refuses an operation deeper than the limit, before running it", async () => {
    const before = await productRows();
    const { errors } = await open.gql(
      '{ product(key: "square/1") { dependencies { dependencies { dependencies { dependencies { key } } } } } }',
    );
    expect(errors?.[0]?.message).toMatch(/Query depth limit of 4 exceeded/);
    expect(await productRows()).toBe(before);
  });

  it("refuses too many aliases and computes none of them", async () => {
    const fields = Array.from({ length: 25 }, (_, i) => `a${i}: square(n: ${7000 + i}) { n }`).join(
      " ",
    );
    const { errors } = await open.gql(`{ ${fields} }`);
    expect(errors?.[0]?.message).toMatch(/Aliases limit of 20 exceeded/);
    expect(calls.get("square/7000")).toBeUndefined();
  });

  it("refuses documents with too many tokens", async () => {
    const { errors } = await open.gql(`{ ${"__typename ".repeat(500)} }`);
    expect(errors?.[0]?.message).toMatch(/Token limit of 400 exceeded/);
  });

  it("refuses a body over the size limit with 413, declared or streamed", async () => {
    const big = JSON.stringify({ query: `{ __typename }`, padding: "x".repeat(30_000) });
    const declared = await fetch(open.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({
      errors: [{ extensions: { code: "PAYLOAD_TOO_LARGE" } }],
    });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await fetch(open.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit).then(
      (r) => r.status,
      () => "closed",
    );
    expect([413, "closed"]).toContain(streamed);
    // The server is still fine.
    expect((await open.gql("{ __typename }")).data).toEqual({ __typename: "Query" });
  });

  it("limits batched operations", async () => {
    const batch = (n: number) =>
      fetch(open.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(Array.from({ length: n }, () => ({ query: "{ __typename }" }))),
      });
    expect(await (await batch(2)).json()).toEqual([
      { data: { __typename: "Query" } },
      { data: { __typename: "Query" } },
    ]);
    const refused = await batch(3);
    expect(JSON.stringify(await refused.json())).toMatch(/Batching is limited to 2 operations/);
  });
});

describe("authorisation", () => {
  const admin = { authorization: "Bearer admin-secret" };
  const reader = { authorization: "Bearer reader-secret" };

  it("refuses mutations without a token, with a coded error, and changes nothing", async () => {
    const before = await productRows();
    const missing = await guarded.gql(
      'mutation { refresh(key: "square/41") { version } }',
      {},
      reader,
    );
    expect(missing.errors?.[0]).toMatchObject({ extensions: { code: "FORBIDDEN" } });
    const none = await guarded.gql('mutation { prime(keys: ["square/41"]) }');
    expect(none.errors?.[0]).toMatchObject({
      extensions: { code: "UNAUTHORIZED" },
      message: expect.stringMatching(/Bearer/),
    });
    const wrong = await guarded.gql(
      'mutation { invalidate(key: "square/41") { key } }',
      {},
      { authorization: "Bearer nope" },
    );
    expect(wrong.errors?.[0]?.extensions?.["code"]).toBe("FORBIDDEN");
    expect(await productRows()).toBe(before);
    expect(calls.get("square/41")).toBeUndefined();
  });

  it("runs mutations with the admin token", async () => {
    const { data, errors } = await guarded.gql<{ prime: string[] }>(
      'mutation { prime(keys: ["square/41"]) }',
      {},
      admin,
    );
    expect(errors).toBeUndefined();
    expect(data?.prime).toEqual(["square/41"]);
  });

  it("makes queries private when a read token is set", async () => {
    const anonymous = await fetch(guarded.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ square(n: 42) { n } }" }),
    });
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).errors[0].extensions.code).toBe("UNAUTHORIZED");
    expect((await guarded.gql("{ square(n: 42) { n } }", {}, reader)).data).toEqual({
      square: { n: 42 },
    });
    expect((await guarded.gql("{ square(n: 42) { n } }", {}, admin)).data).toEqual({
      square: { n: 42 },
    });
  });

  it("refuses every mutation in production when no admin token is configured", async () => {
    const { errors } = await production.gql('mutation { refresh(key: "square/43") { version } }');
    expect(errors?.[0]).toMatchObject({
      extensions: { code: "FORBIDDEN" },
      message: expect.stringMatching(/NODE_ENV=production and no KCK_ADMIN_TOKEN/),
    });
    expect((await production.gql("{ square(n: 43) { n } }")).data).toEqual({ square: { n: 43 } });
  });

  it("lets a pluggable authorize function decide", async () => {
    const custom = await startTestApp({
      databaseUrl: database.url,
      primers: fixturePrimers,
      auth: { authorize: ({ operation, token }) => operation === "query" || token === "ops-team" },
    });
    try {
      expect(
        (await custom.gql('mutation { prime(keys: ["square/44"]) }')).errors?.[0]?.extensions?.[
          "code"
        ],
      ).toBe("FORBIDDEN");
      expect(
        (
          await custom.gql(
            'mutation { prime(keys: ["square/44"]) }',
            {},
            { authorization: "Bearer ops-team" },
          )
        ).data,
      ).toEqual({ prime: ["square/44"] });
    } finally {
      await custom.stop();
    }
  });
});
