import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { freePort, startEmbedded } from "../../src/db/embedded.ts";
import { definePrimer, param } from "../../src/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { fixturePrimers } from "../fixtures/counting.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { startChild } from "../helpers/child.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { recordCounts } from "../helpers/reliability.ts";

let database: TestDatabase;
let workDir: string;
let faults = 0;
let failedDuringOutages = 0;
let lost = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  workDir = await mkdtemp(join(tmpdir(), "kck-faults-"));
  // The embedded servers run as the postgres OS user when tests run as root: let it pass through.
  await chmod(workDir, 0o711);
});

afterAll(async () => {
  await database?.drop();
  await rm(workDir, { recursive: true, force: true });
  await recordCounts({
    faultsInjected: faults,
    requestsFailedDuringOutages: failedDuringOutages,
    dataLost: lost,
  });
});

const post = async (url: string, query: string) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: Record<string, unknown>;
      errors?: { message: string; extensions?: { code?: string } }[];
    },
  };
};

describe("a compute that hangs", () => {
  const gate = { hang: true };
  const hangs = definePrimer({
    name: "hangs",
    params: { id: param.int() },
    type: "Int",
    timeout: "300ms",
    compute: ({ id }) => (gate.hang ? new Promise<number>(() => {}) : id),
  });
  let kck: TestApp;
  beforeAll(async () => {
    kck = await startTestApp({ databaseUrl: database.url, primers: [hangs] });
  });
  afterAll(() => kck?.stop());

  it("hits its primer's timeout, reports it, and leaves no lock behind", async () => {
    faults++;
    const { errors } = await kck.gql("{ hangs(id: 1) }");
    expect(errors?.[0]).toMatchObject({
      message: "Computing hangs/1 took longer than 300 ms and was abandoned.",
      extensions: { code: "TIMEOUT" },
    });
    // The key's own compute lock (workers hold liveness locks of their own).
    const { rows } = await kck.app.engine.db.query(
      `select 1 from pg_locks where locktype = 'advisory' and granted
         and ((classid::bigint << 32) | objid::bigint) = hashtextextended('hangs/1', 0)`,
    );
    expect(rows).toEqual([]);
    const meta = await kck.gql<{ product: { lastError: string; version: number } }>(
      '{ product(key: "hangs/1") { lastError version } }',
    );
    expect(meta.data?.product).toEqual({
      lastError: "Computing hangs/1 took longer than 300 ms and was abandoned.",
      version: 0,
    });
    gate.hang = false;
    expect((await kck.gql("{ hangs(id: 1) }")).data).toEqual({ hangs: 1 });
  });
});

describe("secrets", () => {
  it("never puts the password of DATABASE_URL in logs or errors", async () => {
    faults++;
    const lines: string[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => lines.push(line) });
    const port = await freePort();
    const app = createApp({
      primers: fixturePrimers,
      databaseUrl: `postgres://kck:s3cr3t-pa55@127.0.0.1:${port}/nowhere`,
      port: 0,
      host: "127.0.0.1",
      log,
    });
    const failure = await app.start().then(
      () => "started",
      (error: Error) => `${error.message}\n${error.stack}`,
    );
    await app.stop();
    expect(failure).not.toBe("started");
    expect(failure).not.toContain("s3cr3t-pa55");
    expect(lines.join("\n")).toContain("***");
    expect(lines.join("\n")).not.toContain("s3cr3t-pa55");

    // The test server's own password when it has one (the embedded server), else any: the
    // machine's PostgreSQL trusts local connections.
    const withPassword = new URL(database.url);
    if (withPassword.password === "") withPassword.password = "another-s3cret";
    const secret = decodeURIComponent(withPassword.password);
    const ok = createApp({
      primers: fixturePrimers,
      databaseUrl: withPassword.toString(),
      port: 0,
      host: "127.0.0.1",
      log,
    });
    const { url } = await ok.start();
    await post(
      url,
      '{ flaky(id: "secret-test") square(n: 3) { n } product(key: "nope/1") { key } }',
    );
    await ok.stop();
    expect(lines.join("\n")).not.toContain(secret);
  });
});

describe("process signals and crashes", () => {
  it("drains an in-flight request on SIGTERM, then exits 0", async () => {
    const child = await startChild({
      DATABASE_URL: database.url,
      KCK_PRIMERS_DIR: "test/fixtures/slow-primers",
    });
    const inFlight = post(child.url, "{ slow(ms: 1500) }");
    await new Promise((r) => setTimeout(r, 300));
    faults++;
    child.process.kill("SIGTERM");
    expect(await inFlight).toEqual({ status: 200, body: { data: { slow: 1500 } } });
    expect(await child.exited).toBe(0);
    expect(child.output()).toMatch(/"signal":"SIGTERM".*"msg":"stopping"/);
  });

  it("keeps the embedded data through kill -9 and a restart", async () => {
    const dataDir = join(workDir, "killed");
    const env = {
      DATABASE_URL: undefined,
      KCK_DATA_DIR: dataDir,
      KCK_PRIMERS_DIR: "test/fixtures/slow-primers",
    };
    const first = await startChild(env);
    expect((await post(first.url, "{ slow(ms: 5) }")).body.data).toEqual({ slow: 5 });
    faults++;
    first.process.kill("SIGKILL");
    await first.exited;
    const second = await startChild(env);
    try {
      const { body } = await post(
        second.url,
        '{ product(key: "slow/5") { version computeCount } slow(ms: 5) }',
      );
      if (body.data?.["product"] === null) lost++;
      expect(body.data).toEqual({ product: { version: 1, computeCount: 1 }, slow: 5 });
      expect(second.output()).toMatch(/stopping a PostgreSQL left running/);
    } finally {
      second.process.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    }
  });
});

describe("PostgreSQL restarted under load", () => {
  it("answers clear errors during the outage and recovers by itself", async () => {
    const port = await freePort();
    const dataDir = join(workDir, "restart");
    let server = await startEmbedded({ dataDir, log: silentLogger(), port });
    const app = createApp({
      primers: fixturePrimers,
      databaseUrl: server.url,
      port: 0,
      host: "127.0.0.1",
    });
    const { url } = await app.start();
    try {
      for (let n = 1; n <= 20; n++)
        expect((await post(url, `{ square(n: ${n}) { square } }`)).body.errors).toBeUndefined();
      const events: string[] = [];
      app.engine.onChange((event) => events.push(event.k));

      let running = true;
      const outcomes = { ok: 0, unavailable: 0, other: [] as string[] };
      const load = (async () => {
        for (let i = 0; running; i++) {
          const { status, body } = await post(
            url,
            `{ square(n: ${(i % 40) + 1}) { square } }`,
          ).catch((e: Error) => ({
            status: 0,
            body: { errors: [{ message: e.message, extensions: { code: "NETWORK" } }] },
          }));
          if (!body.errors) outcomes.ok++;
          else if (status === 503 || body.errors.every((e) => e.extensions?.code === "UNAVAILABLE"))
            outcomes.unavailable++;
          else outcomes.other.push(`${status} ${JSON.stringify(body.errors)}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();

      await new Promise((r) => setTimeout(r, 200));
      faults++;
      await server.stop();
      await expect.poll(() => outcomes.unavailable, { timeout: 10_000 }).toBeGreaterThan(0);
      server = await startEmbedded({ dataDir, log: silentLogger(), port });
      const okBefore = outcomes.ok;
      await expect
        .poll(() => outcomes.ok - okBefore, { timeout: 20_000, interval: 100 })
        .toBeGreaterThan(20);
      running = false;
      await load;
      failedDuringOutages += outcomes.unavailable;
      expect(outcomes.other).toEqual([]);

      // Nothing stored before the outage was lost, and change events flow again.
      const { body } = await post(url, '{ product(key: "square/20") { version computeCount } }');
      if (body.data?.["product"] === null) lost++;
      expect(body.data).toEqual({ product: { version: 1, computeCount: 1 } });
      await expect
        .poll(
          async () => {
            await post(url, 'mutation { refresh(key: "square/7") { version } }');
            return events.includes("square/7");
          },
          { timeout: 20_000, interval: 250 },
        )
        .toBe(true);
    } finally {
      await app.stop();
      await server.stop();
    }
  });
});
