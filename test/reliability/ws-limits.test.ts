import { type Client, createClient, type FormattedExecutionResult } from "graphql-ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DEFAULT_LIMITS } from "../../src/gateway/plugins/use-limits.ts";
import { calls, fixturePrimers } from "../fixtures/counting.ts";
import { account, ledgerPrimers, setupLedger } from "../fixtures/ledger.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { recordCounts } from "../helpers/reliability.ts";
import { collect } from "../helpers/subscribe.ts";

let database: TestDatabase;
let open: TestApp;
let guarded: TestApp;
const clients: Client[] = [];
let oversizeRefused = 0;
let subscriptionsCapped = 0;

const BODY_BYTES = 20_000;

beforeAll(async () => {
  database = await createTestDatabase();
  const jobs = { worker: false };
  open = await startTestApp({
    databaseUrl: database.url,
    primers: [...fixturePrimers, ...ledgerPrimers],
    setups: [setupLedger],
    limits: { ...DEFAULT_LIMITS, depth: 4, bodyBytes: BODY_BYTES },
    wsMaxSubscriptions: 3,
    jobs,
  });
  guarded = await startTestApp({
    databaseUrl: database.url,
    primers: fixturePrimers,
    auth: { adminToken: "admin-secret", readToken: "reader-secret" },
    jobs,
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.dispose();
});

afterAll(async () => {
  await open?.stop();
  await guarded?.stop();
  await database?.drop();
  await recordCounts({
    wsOversizeRefused: oversizeRefused,
    wsSubscriptionsCapped: subscriptionsCapped,
  });
});

/** A graphql-ws client that records how its socket closed. */
function client(app: TestApp, connectionParams?: Record<string, unknown>) {
  const closes: { code: number; reason: string }[] = [];
  const c = createClient({
    url: app.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    ...(connectionParams ? { connectionParams } : {}),
    on: { closed: (event) => closes.push(event as { code: number; reason: string }) },
  });
  clients.push(c);
  return { c, closes };
}

/** Runs one query or mutation over graphql-ws: its results, or the error it ended with. */
function once(
  c: Client,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{
  results: FormattedExecutionResult<Record<string, unknown>, unknown>[];
  error?: unknown;
}> {
  return new Promise((resolve) => {
    const results: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
    c.subscribe(
      { query, ...(variables ? { variables } : {}) },
      {
        next: (result) => results.push(result),
        error: (error) => resolve({ results, error }),
        complete: () => resolve({ results }),
      },
    );
  });
}

const codeOf = (error: unknown): unknown =>
  Array.isArray(error)
    ? (error[0] as { extensions?: { code?: unknown } })?.extensions?.code
    : (error as { code?: unknown })?.code;

describe("queries and mutations over graphql-ws", () => {
  it("answers a query and a mutation on one socket, each once, without closing it", async () => {
    const { c, closes } = client(open);
    const query = await once(c, "{ square(n: 12) { square } }");
    expect(query).toEqual({ results: [{ data: { square: { square: 144 } } }] });
    const before = (await open.app.engine.get("account/ws-1")) as { balance: number };
    const mutation = await once(
      c,
      'mutation { augmentAccount(id: "ws-1", delta: { amount: 5 }) { version value { balance } } }',
    );
    expect(mutation.error).toBeUndefined();
    expect(mutation.results).toHaveLength(1);
    expect(mutation.results[0]?.data).toMatchObject({
      augmentAccount: { value: { balance: before.balance + 5 } },
    });
    // Applied once: the stored balance moved by exactly one delta.
    const after = (await open.app.engine.get(account, { id: "ws-1" })) as { balance: number };
    expect(after.balance).toBe(before.balance + 5);
    // The same socket still serves.
    expect((await once(c, "{ square(n: 2) { square } }")).results).toHaveLength(1);
    expect(closes).toEqual([]);
  });

  it("answers refusals (limits, validation, authorization) as errors, the socket left open", async () => {
    const { c, closes } = client(open);
    const deep = await once(
      c,
      '{ product(key: "square/1") { dependents { dependents { dependents { dependents { key } } } } } }',
    );
    expect(deep.error ?? deep.results[0]?.errors).toBeDefined();
    const unknown = await once(c, "{ nope }");
    expect(unknown.error).toBeDefined();
    const refused = await once(
      c,
      'mutation { augmentAccount(id: "ws-2", delta: { amount: -5 }) { version } }',
    );
    expect(refused.results[0]?.errors?.[0]?.extensions?.["code"]).toBe("BAD_PARAM");
    expect((await once(c, "{ square(n: 3) { square } }")).results).toEqual([
      { data: { square: { square: 9 } } },
    ]);
    expect(closes).toEqual([]);

    const anonymous = client(guarded);
    const noToken = await once(anonymous.c, "{ square(n: 4) { square } }");
    expect(codeOf(noToken.error ?? noToken.results[0]?.errors)).toBe("UNAUTHORIZED");
    const noMutation = await once(anonymous.c, 'mutation { refresh(key: "square/4") { version } }');
    expect(codeOf(noMutation.error ?? noMutation.results[0]?.errors)).toBe("UNAUTHORIZED");
    const sub = await once(anonymous.c, "subscription { square(n: 4) { version } }");
    expect(codeOf(sub.error ?? sub.results[0]?.errors)).toBe("UNAUTHORIZED");
    expect(anonymous.closes).toEqual([]);
    const reader = client(guarded, { authorization: "Bearer reader-secret" });
    expect((await once(reader.c, "{ square(n: 4) { square } }")).results).toEqual([
      { data: { square: { square: 16 } } },
    ]);
  });
});

describe("WebSocket limits", () => {
  /** Opens a raw socket, sends `payload` (with or without connection_init first), and reports the close. */
  const sendRaw = (payload: string, init: boolean): Promise<{ code: number }> =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(open.url.replace("http", "ws"), "graphql-transport-ws");
      socket.once("error", () => {});
      socket.once("close", (code) => resolve({ code }));
      socket.once("open", () => {
        if (init) socket.send(JSON.stringify({ type: "connection_init" }));
        socket.send(payload, (error) => {
          if (error) reject(error);
        });
      });
    });

  it("refuses a message over the body limit with 1009, before and after connection_init", async () => {
    const before = calls.size;
    const big = "x".repeat(BODY_BYTES + 1);
    for (const init of [false, true]) {
      const { code } = await sendRaw(big, init);
      expect(code).toBe(1009);
      oversizeRefused++;
    }
    const query = JSON.stringify({
      id: "1",
      type: "subscribe",
      payload: { query: `{ square(n: 1) { square } } # ${"y".repeat(BODY_BYTES)}` },
    });
    expect((await sendRaw(query, true)).code).toBe(1009);
    oversizeRefused++;
    // Nothing was computed for it, and the server still answers.
    expect(calls.size).toBe(before);
    const { c } = client(open);
    expect((await once(c, "{ square(n: 5) { square } }")).results).toHaveLength(1);
  });

  it("caps subscriptions per connection: past the cap a subscription gets an error, others go on", async () => {
    const { c, closes } = client(open);
    const held = [1, 2, 3].map((n) =>
      collect<{ version: number }>(c, `subscription { square(n: ${n}) { version } }`, "square"),
    );
    for (const s of held) await s.until((values) => values.length > 0);
    const fourth = await once(c, "subscription { square(n: 4) { version } }");
    expect(codeOf(fourth.error)).toBe("LIMIT_EXCEEDED");
    expect((fourth.error as { message: string }[])[0]?.message).toMatch(/3 subscriptions/);
    subscriptionsCapped++;
    // Queries are not subscriptions: still answered.
    expect((await once(c, "{ square(n: 6) { square } }")).results).toHaveLength(1);
    // One completed makes room for one more.
    held[0]?.stop();
    let again = collect<{ version: number }>(
      c,
      "subscription { square(n: 5) { version } }",
      "square",
    );
    // The server learns of the completion when it arrives: until then the cap may still hold.
    for (let tries = 0; tries < 50; tries++) {
      try {
        await again.until((values) => values.length > 0);
        break;
      } catch {
        subscriptionsCapped++;
        again = collect<{ version: number }>(
          c,
          "subscription { square(n: 5) { version } }",
          "square",
        );
      }
    }
    expect(again.values.length).toBeGreaterThan(0);
    expect(held[1]?.completed).toBe(false);
    expect(closes).toEqual([]);
    for (const s of [...held, again]) s.stop();
  });
});
