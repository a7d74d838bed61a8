import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type App, createApp } from "../src/app.ts";
import { readJobState } from "../src/jobs/job-state.ts";
import { jobPrimers, setup } from "./fixtures/jobs/primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
let database: TestDatabase;
let gateway: TestApp;
let child: ChildProcess | undefined;
let rescuer: App | undefined;
let childOutput = "";

beforeAll(async () => {
  database = await createTestDatabase();
  // A gateway that runs no jobs itself.
  gateway = await startTestApp({
    databaseUrl: database.url,
    primers: jobPrimers,
    setups: [setup],
    jobs: { worker: false },
  });
});

afterAll(async () => {
  child?.kill("SIGKILL");
  await rescuer?.stop();
  await gateway?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => gateway.app.engine.db.query(text, values);

/** Starts `npm run worker` (src/worker-main.ts) as a real child process on the test database. */
function startWorkerProcess(): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    ["--conditions=kck-source", "--import", "tsx", "src/worker-main.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        KCK_PRIMERS_DIR: "test/fixtures/jobs",
        KCK_WORKER_CONCURRENCY: "1",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      childOutput += chunk.toString();
      if (childOutput.includes("KCK worker started")) resolve(proc);
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", (chunk: Buffer) => {
      childOutput += chunk.toString();
    });
    proc.once("exit", (code) => reject(new Error(`The worker exited (${code}): ${childOutput}`)));
  });
}

it("leaves the stored value whole when a worker is killed mid-refresh, and runs the job again", async () => {
  await sql("insert into jt_slow (id, v) values (1, 1)");
  await sql("insert into jt_settings (name, value) values ('slowMs', 0)");
  const first = await gateway.app.engine.get("slow/1");
  expect(first).toBe(`slow 1 = 1 by ${process.pid}`);
  // The insert asked for a refresh, which no worker ran: start from an empty queue.
  await sql("select graphile_worker.remove_job('kck:refresh:slow/1')");

  await sql("update jt_settings set value = 60000 where name = 'slowMs'");
  child = await startWorkerProcess();
  const pid = child.pid as number;
  await sql("update jt_slow set v = 2 where id = 1");
  // The child has started computing (and sleeps for a minute).
  await expect
    .poll(
      async () =>
        (await sql("select count(*)::int as n from jt_log where pid = $1", [pid])).rows[0],
      {
        timeout: 20_000,
      },
    )
    .toEqual({ n: 1 });
  const exited = new Promise((resolve) => child?.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  child = undefined;

  const after = await gateway.app.engine.inspect("slow/1");
  expect(after).toMatchObject({ version: 1, value: first, lastError: null, computeCount: 1 });
  expect(await readJobState(gateway.app.engine.db, "slow/1")).toMatchObject({
    status: "RUNNING",
    attempts: 1,
  });

  // A live worker sees that the dead one's lock is free, unlocks its job and runs it again.
  await sql("update jt_settings set value = 0 where name = 'slowMs'");
  rescuer = createApp({
    databaseUrl: database.url,
    primers: jobPrimers,
    setups: [setup],
    http: false,
    jobs: { pollInterval: 50, reapIntervalMs: 100 },
  });
  await rescuer.start();
  await expect
    .poll(async () => (await gateway.app.engine.inspect("slow/1"))?.value, { timeout: 20_000 })
    .toBe(`slow 1 = 2 by ${process.pid}`);
  expect(await gateway.app.engine.inspect("slow/1")).toMatchObject({
    version: 2,
    computeCount: 2,
  });
  const { rows } = await sql(
    "select pid, count(*)::int as n from jt_log group by pid order by pid",
  );
  expect(rows).toEqual(
    [
      { pid, n: 1 },
      { pid: process.pid, n: 2 },
    ].sort((x, y) => x.pid - y.pid),
  );
});
