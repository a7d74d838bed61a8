import { afterAll, beforeAll, expect, it } from "vitest";
import { Augmenter } from "../src/augment/augmenter.ts";
import type { Db } from "../src/db/db.ts";
import { Engine } from "../src/engine/engine.ts";
import { silentLogger } from "../src/logger.ts";
import { migrate } from "../src/sql/migrate.ts";
import { calls, fixturePrimers } from "./fixtures/counting.ts";
import { ledgerPrimers, setupLedger } from "./fixtures/ledger.ts";
import { createTestDatabase, type TestDatabase, testDb } from "./helpers/db.ts";

// What an engine does with the ports it is given (src/engine/ports.ts), and without them.

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = testDb(database.url);
  await migrate(db);
  await setupLedger(db);
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

it("refuses augments without an augmenter, and hands them to the one it is built with", async () => {
  const bare = await Engine.start({ db, primers: ledgerPrimers });
  try {
    await expect(bare.augment("account/ports", { amount: 5 })).rejects.toMatchObject({
      code: "NOT_AUGMENTABLE",
      message: expect.stringMatching(/^account\/ports cannot be augmented: .*without an augmenter/),
    });
  } finally {
    await bare.stop();
  }
  let builtWith: Engine | undefined;
  const engine = await Engine.start({
    db,
    primers: ledgerPrimers,
    augmenter: (built) => {
      builtWith = built;
      return new Augmenter(built, { log: silentLogger() });
    },
  });
  try {
    expect(builtWith).toBe(engine);
    const stored = await engine.augment("account/ports", { amount: 5 });
    expect(stored.value).toEqual({ account: "ports", balance: 5, entries: 1 });
    expect(await engine.get("account/ports")).toEqual({ account: "ports", balance: 5, entries: 1 });
  } finally {
    await engine.stop();
  }
});

it("runs background work in this process without a jobs port, and shows no job", async () => {
  const engine = await Engine.start({ db, primers: fixturePrimers });
  try {
    calls.clear();
    expect(await engine.prime(["square/71", "square/72"])).toEqual(["square/71", "square/72"]);
    // Primed here and now: stored by the time prime resolves, computed once each.
    expect((await engine.inspect("square/71"))?.value).toEqual({ n: 71, square: 5041 });
    expect((await engine.inspect("square/72"))?.value).toEqual({ n: 72, square: 5184 });
    await engine.prime(["square/71"]);
    expect(calls.get("square/71")).toBe(1);
    expect(await engine.refreshJob("square/71")).toBeUndefined();
  } finally {
    await engine.stop();
  }
});
