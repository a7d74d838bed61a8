import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Augmenter } from "../src/augment/augmenter.ts";
import { freshnessOf } from "../src/engine/product.ts";
import { silentLogger } from "../src/logger.ts";
import { computes, ledgerPrimers, setupLedger } from "./fixtures/ledger.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await startTestApp({
    databaseUrl: database.url,
    primers: ledgerPrimers,
    setups: [setupLedger],
  });
  b = await startTestApp({
    databaseUrl: database.url,
    primers: ledgerPrimers,
    setups: [setupLedger],
  });
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await database?.drop();
});

interface Update<T = { account: string; balance: number; entries: number }> {
  key: string;
  version: number;
  value: T;
}

const AUGMENT = `mutation ($id: String!, $amount: Int!, $expected: Int) {
  augmentAccount(id: $id, delta: { amount: $amount }, expectedVersion: $expected) {
    key version value { account balance entries } } }`;

const augment = (app: TestApp, id: string, amount: number, expected?: number) =>
  app.gql<{ augmentAccount: Update }>(AUGMENT, { id, amount, expected });

/** Waits until the job queue is empty: every background refresh asked for has run. */
const settled = () =>
  expect
    .poll(
      async () =>
        (await a.app.engine.db.query("select count(*)::int as n from graphile_worker.jobs"))
          .rows[0]?.["n"],
      { timeout: 15_000, interval: 20 },
    )
    .toBe(0);

const meta = async (key: string) => (await a.app.engine.inspect(key)) ?? null;

const entriesOf = async (id: string) =>
  (
    await a.app.engine.db.query<{ n: number }>(
      "select count(*)::int as n from ledger_entries where account = $1",
      [id],
    )
  ).rows[0]?.n;

describe("augment mutations", () => {
  it("computes a missing product first, then applies the delta and bumps the version", async () => {
    const { data, errors } = await augment(a, "first", 250);
    expect(errors).toBeUndefined();
    expect(data?.augmentAccount).toEqual({
      key: "account/first",
      version: 2,
      value: { account: "first", balance: 250, entries: 1 },
    });
    expect(computes.get("account/first")).toBe(1);
    const product = await meta("account/first");
    expect(product).toMatchObject({ version: 2, computeCount: 1, augmentCount: 1 });
    expect(product?.lastAugmentedAt).toBeInstanceOf(Date);
    // The reducer recorded the entry in the same transaction: a recompute agrees.
    const recomputed = await a.app.engine.refresh("account/first");
    expect(recomputed.value).toEqual(product?.value);
    expect(recomputed.version).toBe(2);
  });

  it("announces each augment to every instance with a change event", async () => {
    const first = (await augment(a, "events", 1)).data?.augmentAccount.version ?? 0;
    const events: unknown[] = [];
    const off = b.app.engine.onChange((event) => {
      // Only augments: a background job (a refresh queued by the first augment's new version)
      // may still announce a compute of its own; and only later versions, since the first
      // augment's own event may reach B after its answer reached the test.
      if (event.k === "account/events" && event.op === "augment" && event.v > first)
        events.push(event);
    });
    try {
      const { data } = await augment(a, "events", 2);
      await expect.poll(() => events.length, { timeout: 30_000 }).toBe(1);
      expect(events).toEqual([
        {
          k: "account/events",
          v: data?.augmentAccount.version,
          op: "augment",
          c: true,
          t: expect.any(Number),
        },
      ]);
    } finally {
      off();
    }
  });

  it("refuses a stale expectedVersion with CONFLICT and writes nothing", async () => {
    const first = await augment(a, "c", 100);
    const version = first.data?.augmentAccount.version as number;
    const before = await meta("account/c");
    const entries = await entriesOf("c");
    const { data, errors } = await augment(b, "c", 5, version - 1);
    expect(data?.augmentAccount ?? null).toBeNull();
    expect(errors?.[0]).toMatchObject({
      message: `account/c is at version ${version}, not at the expected version ${version - 1}; nothing was written. Read it again and retry with expectedVersion ${version}.`,
      extensions: { code: "CONFLICT" },
    });
    expect(await meta("account/c")).toEqual(before);
    expect(await entriesOf("c")).toBe(entries);
    // The version the error names is accepted.
    const retried = await augment(b, "c", 5, version);
    expect(retried.data?.augmentAccount).toMatchObject({ version: version + 1 });
    expect(retried.data?.augmentAccount.value.balance).toBe(105);
  });

  it("refuses an expectedVersion for a product never computed, and computes nothing", async () => {
    const { errors } = await augment(a, "never", 1, 3);
    expect(errors?.[0]?.extensions?.["code"]).toBe("CONFLICT");
    expect(errors?.[0]?.message).toMatch(/has not been computed yet/);
    expect(await meta("account/never")).toBeNull();
    expect(await entriesOf("never")).toBe(0);
  });

  it("writes nothing when the reducer refuses the delta", async () => {
    await augment(a, "poor", 10);
    const before = await meta("account/poor");
    const { errors } = await augment(a, "poor", -11);
    expect(errors?.[0]).toMatchObject({
      message: "Account poor holds 10; it cannot pay 11.",
      extensions: { code: "BAD_PARAM" },
    });
    expect(await meta("account/poor")).toEqual(before);
    expect(await entriesOf("poor")).toBe(1);
  });

  it("applies an augment retried with its idempotency key once, on either instance", async () => {
    const KEYED = `mutation ($id: String!, $amount: Int!, $request: String) {
      augmentAccount(id: $id, delta: { amount: $amount }, idempotencyKey: $request) {
        key version value { account balance entries } } }`;
    const send = (app: TestApp, id: string, amount: number, request?: string) =>
      app.gql<{ augmentAccount: Update }>(KEYED, { id, amount, request });
    const first = await send(a, "retry", 30, "sale-1");
    expect(first.data?.augmentAccount.value).toEqual({ account: "retry", balance: 30, entries: 1 });
    // The answer was lost, say: the client sends the same augment again, here to the other
    // instance, and many times at once.
    const retries = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(i % 2 === 0 ? a : b, "retry", 30, "sale-1")),
    );
    expect(retries.filter((r) => r.errors !== undefined)).toEqual([]);
    for (const retry of retries)
      expect(retry.data?.augmentAccount).toEqual(first.data?.augmentAccount);
    expect(await entriesOf("retry")).toBe(1);
    // Another key is another augment; the same key on another product is its own.
    const second = await send(b, "retry", 5, "sale-2");
    expect(second.data?.augmentAccount.value).toEqual({
      account: "retry",
      balance: 35,
      entries: 2,
    });
    const elsewhere = await send(a, "retry-too", 7, "sale-1");
    expect(elsewhere.data?.augmentAccount.value).toEqual({
      account: "retry-too",
      balance: 7,
      entries: 1,
    });
    // Ten concurrent first attempts with one key, on both instances: one is applied.
    const racing = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(i % 2 === 0 ? a : b, "racing", 1, "once")),
    );
    expect(racing.filter((r) => r.errors !== undefined)).toEqual([]);
    expect(await entriesOf("racing")).toBe(1);
    expect((await meta("account/racing"))?.value).toEqual({
      account: "racing",
      balance: 1,
      entries: 1,
    });
  });

  it("refuses an empty or oversized idempotency key and writes nothing", async () => {
    await augment(a, "keys", 1);
    const before = await meta("account/keys");
    for (const request of ["", "k".repeat(201)]) {
      const { data, errors } = await a.gql<{ augmentAccount: Update }>(
        `mutation ($request: String) {
          augmentAccount(id: "keys", delta: { amount: 1 }, idempotencyKey: $request) { version } }`,
        { request },
      );
      expect(data?.augmentAccount ?? null).toBeNull();
      expect(errors?.[0]).toMatchObject({
        message: `An idempotency key must be 1 to 200 characters long; got ${request.length}. Send one per augment (a UUID, say) and the same one when you retry it.`,
        extensions: { code: "BAD_PARAM" },
      });
    }
    expect(await meta("account/keys")).toEqual(before);
    expect(await entriesOf("keys")).toBe(1);
  });

  it("loses none of 1000 concurrent augments spread over two instances", async () => {
    await augment(a, "busy", 0);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => augment(i % 2 === 0 ? a : b, "busy", 1 + (i % 7))),
    );
    expect(results.filter((r) => r.errors !== undefined)).toEqual([]);
    const expected = Array.from({ length: 1000 }, (_, i) => 1 + (i % 7)).reduce((s, n) => s + n);
    // Every augment saw its own version: no two were applied to the same one.
    const versions = results.map((r) => r.data?.augmentAccount.version ?? 0).sort((x, y) => x - y);
    expect(new Set(versions).size).toBe(1000);
    expect(versions[999]).toBe(1001 + 1);
    const product = await meta("account/busy");
    expect(product).toMatchObject({
      version: 1002,
      augmentCount: 1001,
      value: { account: "busy", balance: expected, entries: 1001 },
    });
    expect((await b.app.engine.refresh("account/busy")).value).toEqual(product?.value);
  });

  it("refuses only the bad delta among concurrent ones", async () => {
    await augment(a, "mixed", 0);
    const results = await Promise.all(
      Array.from({ length: 21 }, (_, i) => augment(a, "mixed", i === 10 ? -1000 : 5)),
    );
    const refused = results.filter((r) => r.errors !== undefined);
    expect(refused.map((r) => r.errors?.[0]?.extensions?.["code"])).toEqual(["BAD_PARAM"]);
    // The opening entry and the twenty good ones.
    expect(await meta("account/mixed")).toMatchObject({
      value: { account: "mixed", balance: 100, entries: 21 },
      augmentCount: 21,
    });
    expect(await entriesOf("mixed")).toBe(21);
  });

  it("applies exactly one of many concurrent augments that expect the same version", async () => {
    const { data } = await augment(a, "once", 1);
    const version = data?.augmentAccount.version as number;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => augment(i % 2 === 0 ? a : b, "once", 1, version)),
    );
    expect(results.filter((r) => r.errors === undefined)).toHaveLength(1);
    const conflicts = results.flatMap((r) => r.errors ?? []);
    expect(conflicts).toHaveLength(19);
    expect(conflicts.every((e) => e.extensions?.["code"] === "CONFLICT")).toBe(true);
    expect(await meta("account/once")).toMatchObject({
      version: version + 1,
      value: { balance: 2, entries: 2 },
    });
    expect(await entriesOf("once")).toBe(2);
  });

  it("never loses an augment to a recompute running at the same time", async () => {
    await augment(a, "race", 1);
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      work.push(augment(i % 2 === 0 ? a : b, "race", 1));
      if (i % 10 === 0) work.push((i % 20 === 0 ? a : b).app.engine.refresh("account/race"));
    }
    await Promise.all(work);
    const stored = await meta("account/race");
    expect(stored?.value).toEqual({ account: "race", balance: 101, entries: 101 });
    expect((await a.app.engine.refresh("account/race")).value).toEqual(stored?.value);
  });

  it("says clearly when a primer cannot be augmented", async () => {
    await expect(a.app.engine.augment("statement/x", { amount: 1 })).rejects.toMatchObject({
      code: "NOT_AUGMENTABLE",
      message: 'Primer "statement" cannot be augmented: it declares no augment.',
    });
    const { errors } = await a.gql('mutation { augmentStatement(id: "x") { version } }');
    expect(errors?.[0]?.message).toMatch(/Cannot query field "augmentStatement"/);
  });
});

describe("dependents of an augmented product", () => {
  it("follows rules along a chain incrementally and invalidates the rest", async () => {
    await augment(a, "a", 40);
    await augment(a, "b", 2);
    const engine = a.app.engine;
    expect(await engine.get("doubled/a%2Cb")).toBe(84);
    expect(await engine.get("totals/a")).toEqual({ accounts: 1, total: 40 });
    expect(await engine.get("statement/a")).toBe("a: 40 in 1 entries");
    const computed = new Map(computes);

    const { data } = await augment(b, "a", 8);
    expect(data?.augmentAccount.value.balance).toBe(48);
    // Rules carried the change in the same transaction: nothing was recomputed...
    expect(await engine.inspect("totals/a%2Cb")).toMatchObject({
      value: { accounts: 2, total: 50 },
      augmentCount: 1,
      computeCount: 1,
    });
    expect(await engine.inspect("totals/a")).toMatchObject({ value: { accounts: 1, total: 48 } });
    expect(await engine.inspect("doubled/a%2Cb")).toMatchObject({ value: 100, augmentCount: 1 });
    expect(computes.get("totals/a%2Cb")).toBe(computed.get("totals/a%2Cb"));
    expect(computes.get("doubled/a%2Cb")).toBe(computed.get("doubled/a%2Cb"));
    // ...and a product without a rule was expired, so its next read recomputes it (unless the
    // background refresh of the dependents no rule follows got there first, on a busy machine).
    const statement = await engine.inspect("statement/a");
    if (statement?.value === "a: 40 in 1 entries") expect(freshnessOf(statement)).toBe("EXPIRED");
    else expect(statement?.value).toBe("a: 48 in 2 entries");
    expect(await engine.get("statement/a")).toBe("a: 48 in 2 entries");
    // The augmented values are those a full recompute gives.
    for (const key of ["doubled/a%2Cb", "totals/a%2Cb", "totals/a"]) {
      const augmented = (await engine.inspect(key))?.value;
      expect((await engine.refresh(key)).value).toEqual(augmented);
    }
  });

  it("refreshes in the background only the dependents no rule followed", async () => {
    const engine = a.app.engine;
    await augment(a, "q", 5);
    expect(await engine.get("totals/q%2Cz")).toEqual({ accounts: 2, total: 5 });
    expect(await engine.get("statement/q")).toBe("q: 5 in 1 entries");
    await settled();
    const before = new Map(computes);
    await augment(b, "q", 1);
    await settled();
    // The rule carried the change to totals/q,z: no job recomputed it.
    expect(await engine.inspect("totals/q%2Cz")).toMatchObject({ value: { total: 6 } });
    expect(computes.get("totals/q%2Cz")).toBe(before.get("totals/q%2Cz"));
    // statement/q has no rule: it was expired, then refreshed by the propagation job.
    expect(computes.get("statement/q")).toBe((before.get("statement/q") ?? 0) + 1);
    expect(await engine.inspect("statement/q")).toMatchObject({ value: "q: 6 in 2 entries" });
  });

  it("leaves products that did not read the augmented one alone", async () => {
    await augment(a, "z", 1);
    const engine = a.app.engine;
    await engine.get("totals/y%2Cz");
    const before = await engine.inspect("totals/y%2Cz");
    await augment(a, "a", 1);
    // A rule names totals/a,z but it never read account/a: no edge, so no change.
    expect(await engine.inspect("totals/y%2Cz")).toEqual(before);
  });

  it("hands the dependents no rule followed to its updateDependents option", async () => {
    const engine = a.app.engine;
    await engine.get("statement/hook");
    const seen: { keys: readonly string[]; key: string }[] = [];
    const augmenter = new Augmenter(engine, {
      log: silentLogger(),
      updateDependents: async (keys, cause) => {
        seen.push({ keys, key: cause.key });
      },
    });
    await augmenter.apply(engine.parse("account/hook"), { amount: 3 });
    expect(seen).toEqual([{ keys: ["statement/hook"], key: "account/hook" }]);
    expect(await engine.get("statement/hook")).toBe("hook: 0 in 0 entries");
  });
});
