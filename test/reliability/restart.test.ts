import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "graphql-ws";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { connectClient, isUnavailable } from "../../src/db/db.ts";
import { type EmbeddedDatabase, freePort, startEmbedded } from "../../src/db/embedded.ts";
import { silentLogger } from "../../src/logger.ts";
import { calls, control, fixturePrimers } from "../fixtures/counting.ts";
import { ledgerPrimers, setupLedger } from "../fixtures/ledger.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { recordCounts } from "../helpers/reliability.ts";
import { collectSse } from "../helpers/sse.ts";
import { collect, wsClient } from "../helpers/subscribe.ts";

// Two gateways on one embedded PostgreSQL that this file stops and starts itself, so that
// subscriptions and augments live through a real server restart.
let workDir: string;
let port: number;
let server: EmbeddedDatabase | undefined;
let url: string;
let a: TestApp;
let b: TestApp;
const clients: Client[] = [];
let faults = 0;
let failedDuringOutages = 0;
let lost = 0;

const log = silentLogger();
/** What gateway `a` logged at warn and above. */
const warnings: string[] = [];
const dataDir = () => join(workDir, "db");

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "kck-restart-"));
  // The embedded server runs as the postgres OS user when tests run as root: let it pass through.
  await chmod(workDir, 0o711);
  port = await freePort();
  server = await startEmbedded({ dataDir: dataDir(), log, port });
  url = server.url;
  // Gateway `a` logs in as a role of its own, so that the test can keep it out for a while
  // after a restart (NOLOGIN refuses new connections and leaves open ones alone).
  await sql("create role kck_a superuser login password 'kck-a-password'");
  const asA = new URL(url);
  asA.username = "kck_a";
  asA.password = "kck-a-password";
  a = await startTestApp({
    log: pino({ level: "warn" }, { write: (line: string) => warnings.push(line) }),
    databaseUrl: asA.toString(),
    primers: ledgerPrimers,
    setups: [setupLedger],
  });
  b = await startTestApp({ databaseUrl: url, primers: ledgerPrimers, setups: [setupLedger] });
});

afterAll(async () => {
  for (const client of clients.splice(0)) await client.dispose();
  await a?.stop();
  await b?.stop();
  await server?.stop();
  await rm(workDir, { recursive: true, force: true });
  await recordCounts({
    faultsInjected: faults,
    requestsFailedDuringOutages: failedDuringOutages,
    dataLost: lost,
  });
});

/** Runs one statement on a connection of its own. */
async function sql(text: string): Promise<void> {
  const admin = await connectClient(url, "kck-test-admin");
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

/** Stops PostgreSQL (a fast shutdown: every connection is cut). */
async function stopServer(): Promise<void> {
  faults++;
  await server?.stop();
  server = undefined;
}

/** Starts PostgreSQL again on the same port and data. */
async function startServer(): Promise<void> {
  server = await startEmbedded({ dataDir: dataDir(), log, port });
}

interface Account {
  key: string;
  version: number;
  value: { balance: number; entries: number };
}

type Errors = { message: string; extensions?: Record<string, unknown> }[] | undefined;

const AUGMENT = `mutation ($id: String!, $amount: Int!, $memo: String) {
  augmentAccount(id: $id, delta: { amount: $amount, memo: $memo }) { version } }`;

const augment = (app: TestApp, id: string, amount: number, memo?: string) =>
  app.gql<{ augmentAccount: { version: number } }>(AUGMENT, { id, amount, memo });

const KEYED = `mutation ($id: String!, $amount: Int!, $memo: String!) {
  augmentAccount(id: $id, delta: { amount: $amount, memo: $memo }, idempotencyKey: $memo) {
    version } }`;

/** The same augment with its memo as its idempotency key: safe to send again. */
const keyedAugment = (app: TestApp, id: string, amount: number, memo: string) =>
  app.gql<{ augmentAccount: { version: number } }>(KEYED, { id, amount, memo });

const unavailable = (errors: Errors): boolean =>
  errors !== undefined &&
  errors.length > 0 &&
  errors.every((e) => e.extensions?.["code"] === "UNAVAILABLE");

/**
 * Runs `attempt` until it succeeds, counting the UNAVAILABLE answers of a server that is still
 * coming back; any other error fails the test.
 */
async function whenAvailable<T>(attempt: () => Promise<{ data?: T; errors?: Errors }>): Promise<T> {
  while (true) {
    const { data, errors } = await attempt();
    if (errors === undefined && data !== undefined) return data;
    if (!unavailable(errors))
      throw new Error(`Expected UNAVAILABLE, got ${JSON.stringify(errors)}`);
    failedDuringOutages++;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ascending = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x > (xs[i - 1] ?? 0));

describe("subscriptions through a PostgreSQL restart", () => {
  it("stay open during the outage, then resume and end on the newest version", async () => {
    const SUBSCRIBE =
      'subscription { account(id: "sub") { key version value { balance entries } } }';
    await augment(b, "sub", 1);
    const client = wsClient(a.url);
    clients.push(client);
    const ws = collect<Account>(client, SUBSCRIBE, "account");
    const sse = collectSse<Account>(a.url, SUBSCRIBE, "account");
    try {
      /** Both subscribers end on `version` with `value` (else it counts as data lost). */
      const expectBoth = async (version: number, value: Account["value"]) => {
        const onIt = (values: Account[]) => values.at(-1)?.version === version;
        const caughtUp = await Promise.race([
          Promise.all([ws.until(onIt), sse.until(onIt)]).then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), 30_000)),
        ]);
        if (!caughtUp) lost++;
        for (const sub of [ws, sse]) {
          expect(sub.values.at(-1)).toEqual({ key: "account/sub", version, value });
          expect(ascending(sub.values.map((v) => v.version))).toBe(true);
          expect(sub.errors).toEqual([]);
        }
      };
      await ws.until((v) => v.length === 1);
      await sse.until((v) => v.length === 1);
      expect(ws.values[0]).toEqual({
        key: "account/sub",
        version: 2,
        value: { balance: 1, entries: 1 },
      });
      // Changes made on the other instance arrive before the outage.
      await augment(b, "sub", 1);
      await ws.until((v) => v.at(-1)?.version === 3);
      await sse.until((v) => v.at(-1)?.version === 3);

      let reconnected = false;
      const offReconnect = a.app.engine.onReconnect(() => {
        reconnected = true;
      });
      await sql("alter role kck_a nologin");
      await stopServer();
      // While PostgreSQL is down: open subscriptions stay open; new ones and writes are told
      // plainly that the database is unavailable.
      const late = collect<Account>(
        client,
        'subscription { account(id: "late") { version } }',
        "account",
      );
      await late.until(() => false).catch(() => {});
      expect(late.errors).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: "UNAVAILABLE" }) }),
      ]);
      failedDuringOutages++;
      const refused = await augment(b, "sub", 1);
      expect(unavailable(refused.errors)).toBe(true);
      failedDuringOutages++;
      expect(ws.completed || ws.errors.length > 0).toBe(false);
      expect(sse.ended || sse.errors.length > 0).toBe(false);

      await startServer();
      // Changes while `a` cannot reconnect yet, so that it misses their events and only its
      // catch-up read can find them: one augment, and one refresh of a source row written
      // behind KCK's back.
      await whenAvailable(() => augment(b, "sub", 10));
      await sql("insert into ledger_entries (account, amount) values ('sub', 100)");
      await whenAvailable(async () => {
        try {
          return { data: await b.app.engine.refresh("account/sub") };
        } catch (error) {
          const code = isUnavailable(error) ? "UNAVAILABLE" : "OTHER";
          return { errors: [{ message: String(error), extensions: { code } }] };
        }
      });
      expect(reconnected).toBe(false);
      expect(ws.completed || ws.errors.length > 0).toBe(false);
      await sql("alter role kck_a login");
      const missed = await b.app.engine.inspect("account/sub");
      expect(missed?.value).toEqual({ account: "sub", balance: 112, entries: 4 });
      // `a` listens again and catches up by itself: nothing else changes meanwhile.
      await expect.poll(() => reconnected, { timeout: 30_000 }).toBe(true);
      offReconnect();
      await expectBoth(missed?.version as number, { balance: 112, entries: 4 });
      // Then changes once `a` listens again: their events reach it.
      for (let i = 0; i < 3; i++) await whenAvailable(() => augment(b, "sub", 1));
      const newest = await b.app.engine.inspect("account/sub");
      expect(newest?.value).toEqual({ account: "sub", balance: 115, entries: 7 });
      await expectBoth(newest?.version as number, { balance: 115, entries: 7 });
    } finally {
      ws.stop();
      sse.stop();
    }
  });
});

describe("augments through a PostgreSQL restart", () => {
  it("loses none that reported success, and refuses the others as UNAVAILABLE", async () => {
    await whenAvailable(() => augment(a, "busy", 0, "opening"));
    const outcomes = { ok: [] as string[], refused: [] as string[], other: [] as string[] };
    const versions: number[] = [];
    let sent = 0;
    let running = true;
    // Eight clients, four on each gateway, each sending one augment after another.
    const clientLoop = async (app: TestApp) => {
      while (running) {
        const memo = `m${sent++}`;
        const { data, errors } = await augment(app, "busy", 1, memo).catch((e: Error) => ({
          data: undefined,
          errors: [{ message: e.message, extensions: { code: "NETWORK" } }] as Errors,
        }));
        if (errors === undefined && data) {
          outcomes.ok.push(memo);
          versions.push(data.augmentAccount.version);
        } else if (unavailable(errors)) {
          outcomes.refused.push(memo);
          await new Promise((r) => setTimeout(r, 10));
        } else outcomes.other.push(`${memo}: ${JSON.stringify(errors)}`);
      }
    };
    const loops = Array.from({ length: 8 }, (_, i) => clientLoop(i % 2 === 0 ? a : b));

    await expect.poll(() => outcomes.ok.length, { timeout: 30_000 }).toBeGreaterThan(150);
    await stopServer();
    await expect.poll(() => outcomes.refused.length, { timeout: 30_000 }).toBeGreaterThan(8);
    await startServer();
    const okBefore = outcomes.ok.length;
    await expect
      .poll(() => outcomes.ok.length - okBefore, { timeout: 30_000 })
      .toBeGreaterThan(150);
    running = false;
    await Promise.all(loops);
    failedDuringOutages += outcomes.refused.length;
    expect(outcomes.other).toEqual([]);

    // Every augment that reported success is in the ledger and in the stored value.
    const { rows } = await b.app.engine.db.query<{ memo: string }>(
      "select memo from ledger_entries where account = 'busy'",
    );
    const stored = new Set(rows.map((row) => row.memo));
    const missing = outcomes.ok.filter((memo) => !stored.has(memo));
    lost += missing.length;
    expect(missing).toEqual([]);
    const product = await b.app.engine.inspect("account/busy");
    const inValue = (product?.value as { entries: number } | undefined)?.entries ?? 0;
    lost += Math.max(0, rows.length - inValue);
    expect(product?.value).toEqual({
      account: "busy",
      balance: rows.length - 1,
      entries: rows.length,
    });
    // A refused augment may still have committed if the connection died after the commit and
    // before its answer; the value counts it then, as the ledger does. None is applied twice,
    // and each success had a version of its own.
    expect(rows.length).toBe(stored.size);
    expect(new Set(versions).size).toBe(versions.length);
    expect(outcomes.ok.length + outcomes.refused.length).toBe(sent);
    expect((await b.app.engine.refresh("account/busy")).value).toEqual(product?.value);
  });
});

describe("augments retried with idempotency keys through a PostgreSQL restart", () => {
  it("apply every augment exactly once when clients retry each refused one until it succeeds", async () => {
    await whenAvailable(() => keyedAugment(a, "retried", 0, "opening"));
    const memos: string[] = [];
    let retries = 0;
    let other: string[] = [];
    let running = true;
    // Six clients, three on each gateway: each augment is sent until it is answered, with its
    // memo as its idempotency key (a refused one may have committed before its answer was lost).
    const clientLoop = async (app: TestApp, client: number) => {
      for (let n = 0; running; n++) {
        const memo = `c${client}-${n}`;
        memos.push(memo);
        for (;;) {
          const { errors } = await keyedAugment(app, "retried", 1, memo).catch((e: Error) => ({
            errors: [{ message: e.message, extensions: { code: "NETWORK" } }] as Errors,
          }));
          if (errors === undefined) break;
          if (!unavailable(errors)) {
            other = [...other, `${memo}: ${JSON.stringify(errors)}`];
            break;
          }
          retries++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const loops = Array.from({ length: 6 }, (_, i) => clientLoop(i % 2 === 0 ? a : b, i));
    await expect.poll(() => memos.length, { timeout: 30_000 }).toBeGreaterThan(60);
    await stopServer();
    await expect.poll(() => retries, { timeout: 30_000 }).toBeGreaterThan(6);
    await startServer();
    const sentBefore = memos.length;
    await expect.poll(() => memos.length - sentBefore, { timeout: 30_000 }).toBeGreaterThan(60);
    running = false;
    await Promise.all(loops);
    failedDuringOutages += retries;
    expect(other).toEqual([]);

    // Every augment is in the ledger once, and in the value.
    const { rows } = await b.app.engine.db.query<{ memo: string; n: number }>(
      "select memo, count(*)::int as n from ledger_entries where account = 'retried' group by memo",
    );
    const twice = rows.filter((row) => row.n > 1).map((row) => row.memo);
    expect(twice).toEqual([]);
    const stored = new Set(rows.map((row) => row.memo));
    const missing = memos.filter((memo) => !stored.has(memo));
    lost += missing.length;
    expect(missing).toEqual([]);
    expect(stored.size).toBe(memos.length + 1);
    const product = await b.app.engine.inspect("account/retried");
    expect(product?.value).toEqual({
      account: "retried",
      balance: memos.length,
      entries: memos.length + 1,
    });
  });
});

describe("a subscribed product that cannot be re-read", () => {
  it("is read again until it can be, so its subscribers do not stay on an old version", async () => {
    await whenAvailable(() => augment(b, "retry", 1));
    const client = wsClient(a.url);
    clients.push(client);
    const sub = collect<Account>(
      client,
      'subscription { account(id: "retry") { key version value { balance entries } } }',
      "account",
    );
    try {
      await sub.until((v) => v.length === 1);
      // Events reach `a` (its change-event connection is back from the last restart).
      const { augmentAccount: seen } = await whenAvailable(() => augment(b, "retry", 1));
      await sub.until((v) => v.at(-1)?.version === seen.version);
      // `a` keeps its change-event connection but can open no other: its reads fail while
      // the change events still reach it (as when the server is out of connections).
      faults++;
      await sql("alter role kck_a nologin");
      await sql(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where usename = 'kck_a' and application_name <> 'kck-listener'`,
      );
      const failedBefore = warnings.filter((w) => w.includes("subscribed product not re-read"));
      const { augmentAccount } = await whenAvailable(() => augment(b, "retry", 1));
      await expect
        .poll(() => warnings.filter((w) => w.includes("subscribed product not re-read")).length, {
          timeout: 30_000,
        })
        .toBeGreaterThan(failedBefore.length);
      await sql("alter role kck_a login");
      // No further change: the subscriber gets the version it missed by itself.
      const caughtUp = await Promise.race([
        sub.until((v) => v.at(-1)?.version === augmentAccount.version).then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 30_000)),
      ]);
      if (!caughtUp) lost++;
      expect(sub.values.at(-1)).toEqual({
        key: "account/retry",
        version: augmentAccount.version,
        value: { balance: 3, entries: 3 },
      });
    } finally {
      sub.stop();
      await sql("alter role kck_a login");
    }
  });
});

describe("the job workers", () => {
  it("run queued jobs again after the restarts", async () => {
    // Both gateways run a worker; prime queues one job per key.
    const keys = Array.from({ length: 10 }, (_, i) => `account/job-${i}`);
    await a.app.engine.prime(keys.slice(0, 5));
    await b.app.engine.prime(keys.slice(5));
    await expect
      .poll(
        async () =>
          (await Promise.all(keys.map((key) => b.app.engine.inspect(key)))).map(
            (product) => product?.version,
          ),
        { timeout: 30_000 },
      )
      .toEqual(keys.map(() => 1));
  });
});

describe("a job running when PostgreSQL goes down", () => {
  it("fails, and the worker goes on running jobs (that one again, too) once it is back", async () => {
    // A database of its own, with one worker: nobody else can run its jobs.
    await sql("create database jobs");
    const jobsUrl = new URL(url);
    jobsUrl.pathname = "/jobs";
    const lines: string[] = [];
    const worker: App = createApp({
      databaseUrl: jobsUrl.toString(),
      primers: fixturePrimers,
      http: false,
      log: pino({ level: "warn" }, { write: (line: string) => lines.push(line) }),
      jobs: { pollInterval: 50, concurrency: 1, reapIntervalMs: 100 },
    });
    await worker.start();
    try {
      control.delayMs = 1000;
      await worker.engine.prime(["square/101"]);
      await expect.poll(() => calls.get("square/101") ?? 0, { timeout: 30_000 }).toBe(1);
      await stopServer();
      // The compute cannot store its value, and its job cannot record that it failed
      // (graphile-worker then shuts its worker pool down).
      await expect
        .poll(() => lines.some((line) => /Failed task \d+ \(kck_prime/.test(line)), {
          timeout: 30_000,
        })
        .toBe(true);
      await startServer();
      control.delayMs = 0;
      await expect
        .poll(
          async () => {
            await worker.engine.prime(["square/102"]).catch(() => {});
            return (await worker.engine.inspect("square/102").catch(() => undefined))?.version;
          },
          { timeout: 30_000, interval: 200 },
        )
        .toBe(1);
      await expect
        .poll(async () => (await worker.engine.inspect("square/101"))?.version, {
          timeout: 30_000,
        })
        .toBe(1);
    } finally {
      control.delayMs = 0;
      await worker.stop();
    }
  });
});
