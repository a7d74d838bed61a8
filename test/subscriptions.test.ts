import type { Client } from "graphql-ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectClient } from "../src/db/db.ts";
import { control, fixturePrimers } from "./fixtures/counting.ts";
import { ledgerPrimers, setupLedger } from "./fixtures/ledger.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { type Collected, collect, wsClient } from "./helpers/subscribe.ts";

let database: TestDatabase;
let a: TestApp;
let b: TestApp;
const clients: Client[] = [];

const primers = [...ledgerPrimers, ...fixturePrimers];

beforeAll(async () => {
  database = await createTestDatabase();
  // No job workers here: the statement counts below are of reads, not of background refreshes.
  const jobs = { worker: false };
  a = await startTestApp({ databaseUrl: database.url, primers, setups: [setupLedger], jobs });
  b = await startTestApp({ databaseUrl: database.url, primers, setups: [setupLedger], jobs });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.dispose();
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await database?.drop();
});

interface Update {
  key: string;
  version: number;
  value: { balance: number; entries: number };
}

const SUBSCRIBE = `subscription ($id: String!, $since: Int) {
  account(id: $id, sinceVersion: $since) { key version value { balance entries } } }`;

const client = (app: TestApp): Client => {
  const created = wsClient(app.url);
  clients.push(created);
  return created;
};

const subscribe = (app: TestApp, id: string, since?: number): Collected<Update> =>
  collect<Update>(client(app), SUBSCRIBE, "account", { id, since });

const augment = (app: TestApp, id: string, amount: number) =>
  app.app.engine.augment(`account/${id}`, { amount });

const versions = (values: readonly Update[]) => values.map((v) => v.version);
const ascending = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x > (xs[i - 1] ?? 0));

describe("subscriptions over graphql-ws", () => {
  it("sends the current value first, then the augments made on another instance, in order", async () => {
    await augment(b, "s1", 5);
    const sub = subscribe(a, "s1");
    await sub.until((v) => v.length === 1);
    expect(sub.values[0]).toEqual({
      key: "account/s1",
      version: 2,
      value: { balance: 5, entries: 1 },
    });
    // Sequential augments: each new version arrives.
    for (let i = 1; i <= 5; i++) {
      await augment(b, "s1", 1);
      await sub.until((v) => v.at(-1)?.version === 2 + i);
    }
    expect(versions(sub.values)).toEqual([2, 3, 4, 5, 6, 7]);
    // A burst: versions may be coalesced, but never repeated, reordered or left behind.
    await Promise.all(Array.from({ length: 50 }, () => augment(b, "s1", 1)));
    await sub.until((v) => v.at(-1)?.version === 57);
    expect(ascending(versions(sub.values))).toBe(true);
    expect(sub.values.at(-1)?.value).toEqual({ balance: 60, entries: 56 });
    expect(sub.errors).toEqual([]);
    sub.stop();
  });

  it("computes a missing product for its first subscriber", async () => {
    const sub = collect<{ version: number; value: { n: number; square: number } }>(
      client(b),
      "subscription { square(n: 12) { version value { n square } } }",
      "square",
    );
    await sub.until((v) => v.length === 1);
    expect(sub.values).toEqual([{ version: 1, value: { n: 12, square: 144 } }]);
  });

  it("reports a product that cannot be computed as an error, as queries do", async () => {
    control.fail = true;
    try {
      const sub = collect<unknown>(
        client(a),
        'subscription { flaky(id: "x") { version } }',
        "flaky",
      );
      await expect(sub.until(() => false)).rejects.toThrow(/source for x is down/);
    } finally {
      control.fail = false;
    }
    // The same pipeline as queries: the same error, and nothing internal in it.
    const broken = collect<unknown>(client(a), "subscription { broken { version } }", "broken");
    await expect(broken.until(() => false)).rejects.toThrow(/ended/);
    const query = await a.gql("{ broken }");
    expect(broken.errors).toEqual([
      expect.objectContaining({
        message: query.errors?.[0]?.message,
        extensions: expect.objectContaining({ code: "COMPUTE_FAILED" }),
      }),
    ]);
    expect(JSON.stringify(broken.errors)).not.toMatch(/internal detail/);
  });

  it("catches up from sinceVersion: the current value only when it is newer", async () => {
    const current = await augment(b, "s2", 3);
    const caughtUp = subscribe(a, "s2", current.version);
    const behind = subscribe(a, "s2", current.version - 1);
    await behind.until((v) => v.length === 1);
    expect(versions(behind.values)).toEqual([current.version]);
    await augment(b, "s2", 1);
    await caughtUp.until((v) => v.length === 1);
    await behind.until((v) => v.length === 2);
    expect(versions(caughtUp.values)).toEqual([current.version + 1]);
    expect(versions(behind.values)).toEqual([current.version, current.version + 1]);
  });

  it("brings a subscribed dependent back after an augment invalidates it", async () => {
    await augment(a, "s3", 7);
    const sub = collect<{ version: number; value: string }>(
      client(a),
      'subscription { statement(id: "s3") { version value } }',
      "statement",
    );
    await sub.until((v) => v.length === 1);
    expect(sub.values[0]?.value).toBe("s3: 7 in 1 entries");
    await augment(b, "s3", 1);
    await sub.until((v) => v.at(-1)?.value === "s3: 8 in 2 entries");
    expect(versions(sub.values as never)).toEqual([1, 2]);
  });
});

describe("fan-out", () => {
  it("makes one database read per new version for 1000 subscribers of one key", async () => {
    await augment(b, "fan", 1);
    const stats = a.app.engine.db.stats;
    const before = stats.statements;
    const sockets = Array.from({ length: 10 }, () => client(a));
    const subs = Array.from({ length: 1000 }, (_, i) =>
      collect<Update>(sockets[i % 10] as Client, SUBSCRIBE, "account", { id: "fan" }),
    );
    await Promise.all(subs.map((s) => s.until((v) => v.length === 1)));
    expect(a.app.hub.size).toBe(1);
    // One read served the current value to all 1000.
    expect(stats.statements - before).toBe(1);
    for (let i = 1; i <= 5; i++) {
      const start = stats.statements;
      const { version } = await augment(b, "fan", 1);
      await Promise.all(subs.map((s) => s.until((v) => v.at(-1)?.version === version)));
      expect(stats.statements - start).toBe(1);
    }
    for (const sub of subs) expect(versions(sub.values)).toEqual([2, 3, 4, 5, 6, 7]);
    for (const sub of subs) sub.stop();
  });

  it("lets a slow subscriber skip to the latest version without holding up the others", async () => {
    const { engine, hub } = a.app;
    await augment(b, "slow", 1);
    const target = engine.parse("account/slow");
    const slow = await hub.subscribe(target);
    const quick = await hub.subscribe(target);
    const seen: number[] = [];
    const reading = (async () => {
      for await (const update of quick) {
        seen.push(update.version);
        if (update.version === 2 + 40) break;
      }
    })();
    for (let i = 0; i < 40; i++) await augment(b, "slow", 1);
    await reading;
    expect(seen.at(-1)).toBe(42);
    // The slow one kept at most its buffer, newest last, and is told where it stands.
    const buffered: number[] = [];
    while (true) {
      const next = await Promise.race([slow.next(), Promise.resolve(undefined)]);
      if (next === undefined || next.done) break;
      buffered.push(next.value.version);
    }
    expect(buffered.length).toBeLessThanOrEqual(16);
    expect(buffered.at(-1)).toBe(42);
    expect(ascending(buffered)).toBe(true);
    expect(slow.skipped).toBeGreaterThan(0);
    await slow.return();
  });
});

describe("the change-event connection", () => {
  it("re-reads every subscribed key after it is killed, so nobody ends on an old value", async () => {
    await augment(b, "kill", 1);
    const sub = subscribe(a, "kill");
    await sub.until((v) => v.length === 1);
    const admin = await connectClient(database.url, "kck-test-admin");
    try {
      const { rowCount } = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where application_name = 'kck-listener' and datname = current_database()`,
      );
      expect(rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    // Made while the listeners are down, so their events are lost: the resync must find it.
    const missed = await augment(b, "kill", 1);
    await sub.until((v) => v.at(-1)?.version === missed.version);
    for (let i = 0; i < 3; i++) {
      const { version } = await augment(b, "kill", 1);
      await sub.until((v) => v.at(-1)?.version === version);
    }
    expect(ascending(versions(sub.values))).toBe(true);
    expect(sub.values.at(-1)?.value).toEqual({ balance: 5, entries: 5 });
  });
});

describe("subscriptions over SSE", () => {
  it("streams the current value and the next versions through yoga", async () => {
    await augment(a, "sse", 2);
    const abort = new AbortController();
    const response = await fetch(a.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({
        query: 'subscription { account(id: "sse") { version value { balance } } }',
      }),
      signal: abort.signal,
    });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const events: { version: number; value: { balance: number } }[] = [];
    let text = "";
    const next = async () => {
      while (true) {
        const boundary = text.indexOf("\n\n");
        if (boundary >= 0) {
          const chunk = text.slice(0, boundary);
          text = text.slice(boundary + 2);
          const data = chunk.split("\n").find((line) => line.startsWith("data:"));
          if (data) return JSON.parse(data.slice(5)).data.account;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("The event stream ended.");
        text += decoder.decode(value, { stream: true });
      }
    };
    events.push(await next());
    await augment(b, "sse", 3);
    events.push(await next());
    abort.abort();
    expect(events).toEqual([
      { version: 2, value: { balance: 2 } },
      { version: 3, value: { balance: 5 } },
    ]);
  });
});

describe("stopping", () => {
  it("ends open WebSocket and SSE subscriptions instead of waiting for them", async () => {
    const c = await startTestApp({ databaseUrl: database.url, primers, setups: [setupLedger] });
    let stopped = false;
    try {
      const sub = subscribe(c, "stop");
      await sub.until((v) => v.length === 1);
      const response = await fetch(c.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ query: 'subscription { account(id: "stop") { version } }' }),
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      await c.stop();
      stopped = true;
      await sub.until(() => sub.completed || sub.errors.length > 0).catch(() => {});
      expect(sub.completed || sub.errors.length > 0).toBe(true);
      // The event stream ends too.
      while (!(await reader.read()).done) {}
    } finally {
      if (!stopped) await c.stop();
    }
  });
});
