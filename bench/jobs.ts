// Measures the job system: what source triggers cost a writer, how fast a change reaches its
// product, how a burst folds, and how many refresh jobs one worker process runs per second.
// Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:jobs
import { randomBytes } from "node:crypto";
import { createApp } from "../src/app.ts";
import { connectClient } from "../src/db/db.ts";
import { definePrimer, param } from "../src/index.ts";
import { createLogger } from "../src/logger.ts";

const serverUrl = process.env["DATABASE_URL"];
if (!serverUrl) {
  console.error("Set DATABASE_URL to a PostgreSQL server; the bench makes its own database there.");
  process.exit(1);
}
const name = `kck_bench_${randomBytes(4).toString("hex")}`;
const url = new URL(serverUrl);
url.pathname = `/${name}`;

let refreshes = 0;
const benchTitles = definePrimer({
  name: "benchTitles",
  params: { authorId: param.int() },
  type: "Int",
  refreshDelay: 0,
  sources: [{ table: "bench_books", params: { authorId: "author_id" } }],
  async compute({ authorId }, ctx) {
    refreshes++;
    const [row] = await ctx.sql<{ n: number }>(
      "select coalesce(sum(n), 0)::int as n from bench_books where author_id = $1",
      [authorId],
    );
    return row?.n ?? 0;
  },
});
const benchBurst = definePrimer({
  name: "benchBurst",
  params: { authorId: param.int() },
  type: "Int",
  refreshDelay: 100,
  sources: [{ table: "bench_burst", params: { authorId: "author_id" } }],
  async compute({ authorId }, ctx) {
    refreshes++;
    const [row] = await ctx.sql<{ n: number }>(
      "select coalesce(sum(n), 0)::int as n from bench_burst where author_id = $1",
      [authorId],
    );
    return row?.n ?? 0;
  },
});

const admin = await connectClient(serverUrl, "kck-bench");
await admin.query(`create database ${name}`);
const tables = await connectClient(url.toString(), "kck-bench");
await tables.query(`
  create table bench_books (id serial primary key, author_id int not null, n int not null);
  create table bench_burst (id serial primary key, author_id int not null, n int not null);
  create table bench_plain (id serial primary key, author_id int not null, n int not null);
  insert into bench_books (author_id, n) select i % 200, 1 from generate_series(1, 2000) i;
  insert into bench_burst (author_id, n) select 1, 1 from generate_series(1, 100);
  insert into bench_plain (author_id, n) select i % 200, 1 from generate_series(1, 2000) i;`);
await tables.end();
const app = createApp({
  databaseUrl: url.toString(),
  primers: [benchTitles, benchBurst],
  log: createLogger({ level: "warn" }),
  http: false,
  jobs: { concurrency: 4, pollInterval: 100 },
});

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const idle = async () => {
  for (;;) {
    const { rows } = await app.engine.db.query<{ n: number }>(
      "select count(*)::int as n from graphile_worker.jobs",
    );
    if (rows[0]?.n === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
};
const updates = async (table: string, lanes: number, total: number, sameAuthor: boolean) => {
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < total; i += lanes) {
        // Distinct rows; one author (a hot product) or spread over 200.
        const id = sameAuthor ? 1 + ((i * 200) % 2000) : 1 + ((i * 7) % 2000);
        await app.engine.db.query(`update ${table} set n = n + 1 where id = $1`, [id]);
      }
    }),
  );
  return ms(start);
};

try {
  await app.start();
  await app.engine.getMany(Array.from({ length: 200 }, (_, i) => `benchTitles/${i}`));
  await app.engine.get("benchBurst/1");
  await idle();

  console.log("writer cost of source triggers (1000 single-row UPDATE transactions, best of 3):");
  for (const lanes of [1, 8]) {
    for (const same of [false, true]) {
      let plain = Number.POSITIVE_INFINITY;
      let triggered = Number.POSITIVE_INFINITY;
      for (let run = 0; run < 3; run++) {
        plain = Math.min(plain, await updates("bench_plain", lanes, 1000, same));
        triggered = Math.min(triggered, await updates("bench_books", lanes, 1000, same));
        await idle();
      }
      console.log(
        `  ${lanes} connection(s), ${same ? "one author " : "200 authors"}: plain ${plain.toFixed(0)} ms, with trigger ${triggered.toFixed(0)} ms (${(triggered / plain).toFixed(2)}x)`,
      );
    }
  }

  // The writer's own cost, without a worker competing for the CPU: each change adds a new job
  // (slow path), or finds one waiting (fast path).
  const writer = createApp({
    databaseUrl: url.toString(),
    primers: [benchTitles, benchBurst],
    log: createLogger({ level: "warn" }),
    http: false,
    jobs: { worker: false },
  });
  await writer.start();
  await app.jobs.stop();
  try {
    const perChange = async () => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 200; i++) {
        await writer.engine.db.query("update bench_books set n = n + 1 where id = $1", [1 + i]);
      }
      return ms(start) / 200;
    };
    const plainStart = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) {
      await writer.engine.db.query("update bench_plain set n = n + 1 where id = $1", [1 + i]);
    }
    const plain = ms(plainStart) / 200;
    await writer.engine.db.query("delete from graphile_worker._private_jobs");
    const slow = await perChange();
    const fast = await perChange();
    console.log(
      `  no worker running, per transaction: plain ${plain.toFixed(2)} ms, new job ${slow.toFixed(2)} ms, job already waiting ${fast.toFixed(2)} ms`,
    );
  } finally {
    await writer.stop();
  }
  await app.stop();
  await app.start();
  await idle();

  const latencies: number[] = [];
  for (let i = 0; i < 30; i++) {
    const before = (await app.engine.inspect("benchTitles/5"))?.version ?? 0;
    const start = process.hrtime.bigint();
    await app.engine.db.query("update bench_books set n = n + 1 where id = 5");
    while (((await app.engine.inspect("benchTitles/5"))?.version ?? 0) === before) {
      await new Promise((r) => setTimeout(r, 1));
    }
    latencies.push(ms(start));
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `change to refreshed product (30 runs, refreshDelay 0): p50 ${latencies[15]?.toFixed(1)} ms, p90 ${latencies[27]?.toFixed(1)} ms`,
  );

  await idle();
  refreshes = 0;
  const burstStart = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 8 }, async (_, lane) => {
      for (let i = lane; i < 1000; i += 8) {
        await app.engine.db.query("update bench_burst set n = n + 1 where id = $1", [
          1 + (i % 100),
        ]);
      }
    }),
  );
  const burstMs = ms(burstStart);
  await idle();
  console.log(
    `burst: 1000 changes to one product over ${burstMs.toFixed(0)} ms (refreshDelay 100 ms): ${refreshes} refreshes`,
  );

  refreshes = 0;
  const keys = Array.from({ length: 200 }, (_, i) => `benchTitles/${i}`);
  const throughputStart = process.hrtime.bigint();
  for (let round = 0; round < 10; round++) {
    await app.engine.db.query("select kck.enqueue_refreshes($1::text[], 0, 5)", [keys]);
    await idle();
  }
  const throughputMs = ms(throughputStart);
  console.log(
    `throughput: ${refreshes} forced refresh jobs in ${throughputMs.toFixed(0)} ms on one worker process (concurrency 4): ${((refreshes / throughputMs) * 1000).toFixed(0)} jobs/s`,
  );
} finally {
  await app.stop().catch((error: unknown) => console.error("stopping failed:", error));
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
