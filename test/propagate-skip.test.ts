import { afterAll, beforeAll, expect, it } from "vitest";
import { propagate } from "../src/jobs/propagate.ts";
import { silentLogger } from "../src/logger.ts";
import { chainA, chainB, setup } from "./fixtures/jobs/primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  // No worker: the test runs the propagation itself, and sees the jobs it queues.
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [chainA, chainB],
    setups: [setup],
    jobs: { worker: false },
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => kck.app.engine.db.query(text, values);
const refreshJob = async (key: string) =>
  (await sql("select 1 from graphile_worker.jobs where key = $1", [`kck:refresh:${key}`])).rows
    .length;

it("refreshes a dependent that only shares a statement with its dependency, not a value change", async () => {
  await sql("insert into jt_values (n, v) values (5, 10)");
  expect(await kck.app.engine.get("chainB/5")).toBe(1);
  await sql("update jt_values set v = 30 where n = 5");
  expect((await kck.app.engine.refresh("chainA/5")).value).toBe(30);
  // One statement writes both rows (as the batched read-time update does): their rows now
  // share a transaction, but chainB/5 did not follow chainA/5's new value.
  await sql("update kck.products set read_at = now() where key in ('chainA/5', 'chainB/5')");
  expect(await refreshJob("chainB/5")).toBe(0);
  await propagate(kck.app.engine, silentLogger(), "chainA/5");
  expect(await refreshJob("chainB/5")).toBe(1);
});
