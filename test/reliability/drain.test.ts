import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { readJobState } from "../../src/jobs/job-state.ts";
import { jobPrimers, setup } from "../fixtures/jobs/primers.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { type ChildGateway, startWorkerChild } from "../helpers/child.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { recordCounts } from "../helpers/reliability.ts";

// A worker process gets SIGTERM while it runs a refresh: the refresh is finished and stored,
// or, past the drain timeout, handed back to the queue whole, never half-stored.
let database: TestDatabase;
let gateway: TestApp;
let child: ChildGateway | undefined;
let rescuer: App | undefined;
let faults = 0;
let lost = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  // A gateway that runs no jobs itself: it sets the scene and reads the results.
  gateway = await startTestApp({
    databaseUrl: database.url,
    primers: jobPrimers,
    setups: [setup],
    jobs: { worker: false },
  });
});

afterEach(async () => {
  child?.process.kill("SIGKILL");
  await child?.exited;
  child = undefined;
  await rescuer?.stop();
  rescuer = undefined;
});

afterAll(async () => {
  await gateway?.stop();
  await database?.drop();
  await recordCounts({ faultsInjected: faults, dataLost: lost });
});

const sql = (text: string, values?: unknown[]) => gateway.app.engine.db.query(text, values);

/** Computes slow/<id> once here, then starts a worker whose next compute of it takes `ms`. */
async function prepare(id: number, ms: number, env: Record<string, string> = {}) {
  await sql("insert into jt_slow (id, v) values ($1, 1)", [id]);
  await sql(
    `insert into jt_settings (name, value) values ('slowMs', 0)
     on conflict (name) do update set value = 0`,
  );
  const first = await gateway.app.engine.get(`slow/${id}`);
  // The insert asked for a refresh that no worker ran: start from an empty queue.
  await sql("select graphile_worker.remove_job($1)", [`kck:refresh:slow/${id}`]);
  await sql("update jt_settings set value = $1 where name = 'slowMs'", [ms]);
  child = await startWorkerChild({
    DATABASE_URL: database.url,
    KCK_PRIMERS_DIR: "test/fixtures/jobs",
    KCK_WORKER_CONCURRENCY: "1",
    ...env,
  });
  const pid = child.process.pid as number;
  // A source change: the worker starts the refresh.
  await sql("update jt_slow set v = 2 where id = $1", [id]);
  await expect
    .poll(
      async () =>
        (
          await sql("select count(*)::int as n from jt_log where key = $1 and pid = $2", [
            `slow/${id}`,
            pid,
          ])
        ).rows[0],
      { timeout: 20_000 },
    )
    .toEqual({ n: 1 });
  return { first, pid, running: child };
}

it("finishes and stores a running refresh on SIGTERM, then exits 0", async () => {
  const { first, pid, running } = await prepare(1, 1000);
  expect(first).toBe(`slow 1 = 1 by ${process.pid}`);
  faults++;
  running.process.kill("SIGTERM");
  expect(await running.exited).toBe(0);
  child = undefined;
  const stored = await gateway.app.engine.inspect("slow/1");
  if (stored?.value !== `slow 1 = 2 by ${pid}`) lost++;
  expect(stored).toMatchObject({ version: 2, value: `slow 1 = 2 by ${pid}`, lastError: null });
  // The job is done: nothing is left in the queue for it.
  expect(await readJobState(gateway.app.engine.db, "slow/1")).toBeUndefined();
  expect(running.output()).toMatch(/"signal":"SIGTERM".*"msg":"stopping"/);
});

it("hands a refresh that outlasts the drain timeout back to the queue whole, and exits 1", async () => {
  const { first, running } = await prepare(2, 60_000, { KCK_DRAIN_TIMEOUT_MS: "300" });
  faults++;
  running.process.kill("SIGTERM");
  expect(await running.exited).toBe(1);
  child = undefined;
  expect(running.output()).toMatch(/the drain took longer than 300 ms/);
  // Nothing half-stored, and the job is no longer locked (it would show as RUNNING until some
  // worker found its pool dead): the next worker runs it at once.
  const before = await gateway.app.engine.inspect("slow/2");
  if (before?.value !== first) lost++;
  expect(before).toMatchObject({ version: 1, value: first, lastError: null });
  expect(await readJobState(gateway.app.engine.db, "slow/2")).toMatchObject({
    task: "kck_refresh",
    status: "RETRYING",
    lastError: null,
  });

  await sql("update jt_settings set value = 0 where name = 'slowMs'");
  rescuer = createApp({
    databaseUrl: database.url,
    primers: jobPrimers,
    setups: [setup],
    http: false,
    jobs: { pollInterval: 50 },
  });
  await rescuer.start();
  await expect
    .poll(async () => (await gateway.app.engine.inspect("slow/2"))?.value, { timeout: 20_000 })
    .toBe(`slow 2 = 2 by ${process.pid}`);
  expect(await gateway.app.engine.inspect("slow/2")).toMatchObject({ version: 2 });
});

it("hands the running refresh back at once on a second SIGTERM, and exits 1", async () => {
  const { first, running } = await prepare(3, 60_000);
  faults++;
  running.process.kill("SIGTERM");
  await expect.poll(() => running.output(), { timeout: 20_000 }).toMatch(/"msg":"stopping"/);
  running.process.kill("SIGTERM");
  expect(await running.exited).toBe(1);
  child = undefined;
  expect(running.output()).toMatch(/SIGTERM again while stopping/);
  const stored = await gateway.app.engine.inspect("slow/3");
  if (stored?.value !== first) lost++;
  expect(stored).toMatchObject({ version: 1, value: first, lastError: null });
  expect(await readJobState(gateway.app.engine.db, "slow/3")).toMatchObject({
    status: "RETRYING",
    lastError: null,
  });
});
