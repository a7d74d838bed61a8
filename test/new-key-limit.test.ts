import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePrimer, param } from "../src/index.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { wsClient } from "./helpers/subscribe.ts";

const computed = new Set<string>();
const echo = definePrimer({
  name: "echo",
  params: { n: param.int() },
  type: "Int",
  compute: ({ n }, ctx) => {
    computed.add(ctx.key);
    return n;
  },
});

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [echo],
    auth: { adminToken: "admin-secret" },
    // A window of 60 s: nothing refills while the test runs.
    newKeys: { perSecond: 0.1, burst: 6 },
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const post = async (query: string, token?: string) => {
  const response = await fetch(kck.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as {
      data?: Record<string, number | null>;
      errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
    },
  };
};
const fields = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `e${from + i}: echo(n: ${from + i})`).join(" ");
const rows = async () =>
  (await kck.app.engine.db.query<{ n: number }>("select count(*)::int as n from kck.products"))
    .rows[0]?.n;

describe("the new-key limit", () => {
  it("computes a client's new keys up to its budget, refuses the rest with RATE_LIMITED, and stores nothing for them", async () => {
    const first = await post(`{ ${fields(1, 10)} }`);
    expect(first.status).toBe(200);
    const answered = Object.values(first.body.data ?? {}).filter((value) => value !== null);
    expect(answered).toHaveLength(6);
    expect(first.body.errors).toHaveLength(4);
    for (const error of first.body.errors ?? []) {
      expect(error.extensions?.code).toBe("RATE_LIMITED");
      expect(error.message).toMatch(
        /^This client asked for too many products that are not stored yet: at most 6 every 60 s\. Try again in \d+ s\.$/,
      );
    }
    expect(computed.size).toBe(6);
    expect(await rows()).toBe(6);
  });

  it("answers 429 when a request is refused whole, and still serves what is stored", async () => {
    const refused = await post(`{ ${fields(11, 12)} }`);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe("1");
    expect(refused.body.data).toEqual({ e11: null, e12: null });
    expect(refused.body.errors?.map((e) => e.extensions?.code)).toEqual([
      "RATE_LIMITED",
      "RATE_LIMITED",
    ]);
    // Stored keys cost nothing.
    const stored = Object.keys((await post(`{ ${fields(1, 10)} }`)).body.data ?? {}).length;
    expect(stored).toBe(10);
    const again = await post(`{ ${fields(1, 10)} }`);
    expect(Object.values(again.body.data ?? {}).filter((v) => v !== null)).toHaveLength(6);
    expect(computed.size).toBe(6);
    expect(await rows()).toBe(6);
  });

  it("gives a known token a budget of its own, and an unknown one the address's", async () => {
    expect((await post(`{ ${fields(20, 21)} }`, "made-up")).status).toBe(429);
    const admin = await post(`{ ${fields(20, 21)} }`, "admin-secret");
    expect(admin).toMatchObject({ status: 200, body: { data: { e20: 20, e21: 21 } } });
    expect(admin.body.errors).toBeUndefined();
  });

  it("counts a subscription to a key not stored yet, and refuses it past the budget", async () => {
    const client = wsClient(kck.url);
    try {
      const refused = await new Promise<unknown[]>((resolve) => {
        const errors: unknown[] = [];
        client.subscribe(
          { query: "subscription { echo(n: 30) { version value } }" },
          {
            next: (message) => {
              if (message.errors) errors.push(...message.errors);
            },
            error: (error) => resolve([...errors, error]),
            complete: () => resolve(errors),
          },
        );
      });
      expect(JSON.stringify(refused)).toContain("RATE_LIMITED");
      expect(await kck.app.engine.inspect("echo/30")).toBeUndefined();
      // A stored key can still be subscribed to.
      const first = await new Promise<unknown>((resolve) => {
        const stop = client.subscribe(
          { query: "subscription { echo(n: 1) { version value } }" },
          {
            next: (message) => {
              stop();
              resolve(message.data);
            },
            error: resolve,
            complete: () => {},
          },
        );
      });
      expect(first).toEqual({ echo: { version: 1, value: 1 } });
    } finally {
      await client.dispose();
    }
  });
});
