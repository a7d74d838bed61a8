/**
 * Measures augmenting against recomputing on the demo's sales data: the median time of
 * `engine.refresh` (a full recompute) and of `engine.augment` (one new sale) of the same
 * salesTotals product, alone and with salesRanking and authorSales following by their rules.
 *
 * Run: `npm run bench:augment` (DATABASE_URL: a server on which it creates and drops its own
 * database; unset: an embedded server). BENCH_SALES sets the number of sales (default: the
 * demo's).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authorSales, salesRanking, salesTotals } from "../primers/library/sales.ts";
import { SALES, seedLibrary } from "../primers/library/setup.ts";
import { Augmenter } from "../src/augment/augmenter.ts";
import { connectClient, createDb } from "../src/db/db.ts";
import { startEmbedded } from "../src/db/embedded.ts";
import { Engine } from "../src/engine/engine.ts";
import { silentLogger } from "../src/logger.ts";

const sales = Number(process.env["BENCH_SALES"] ?? SALES);
const recomputes = 15;
const augments = 300;

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function time(n: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  return times;
}

async function server(): Promise<{ url: string; stop(): Promise<void> }> {
  const url = process.env["DATABASE_URL"];
  if (url) return { url, stop: async () => {} };
  const dataDir = await mkdtemp(join(tmpdir(), "kck-bench-"));
  const embedded = await startEmbedded({ dataDir, log: silentLogger() });
  return {
    url: embedded.url,
    async stop() {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const pg = await server();
const name = `kck_bench_${randomBytes(4).toString("hex")}`;
const admin = await connectClient(pg.url, "kck-bench");
await admin.query(`create database ${name}`);
const url = new URL(pg.url);
url.pathname = `/${name}`;
const db = createDb({ url: url.toString() });
const engine = await Engine.start({
  db,
  primers: [salesTotals, authorSales, salesRanking],
  augmenter: (built) => new Augmenter(built, { log: silentLogger() }),
});
try {
  let started = performance.now();
  await seedLibrary(db, { sales });
  console.log(`seeded ${sales} sales in ${(performance.now() - started).toFixed(0)} ms`);
  const key = "salesTotals";
  started = performance.now();
  const books = (await engine.get(salesTotals, {})).books.map((b) => b.bookId);
  console.log(`computed salesTotals in ${(performance.now() - started).toFixed(0)} ms`);
  const sale = (i: number) => ({
    bookId: books[(i * 7) % books.length] ?? 0,
    quantity: 1 + (i % 3),
  });
  const recompute = median(await time(recomputes, () => engine.refresh(key)));
  const alone = median(await time(augments, (i) => engine.augment(salesTotals, {}, sale(i))));
  // Now with dependents that follow each sale by their rules.
  await engine.get(salesRanking, {});
  await Promise.all(books.map((_, i) => engine.get(authorSales, { authorId: 1 + (i % 40) })));
  const chained = median(await time(augments, (i) => engine.augment(salesTotals, {}, sale(i))));
  const keys = [
    key,
    "salesRanking",
    ...Array.from({ length: 40 }, (_, i) => `authorSales/${i + 1}`),
  ];
  const augmented = JSON.stringify(await engine.getMany(keys));
  for (const k of keys) await engine.refresh(k);
  const equal = JSON.stringify(await engine.getMany(keys)) === augmented;
  console.log(`recompute salesTotals, median of ${recomputes}: ${recompute.toFixed(2)} ms`);
  console.log(
    `augment salesTotals, median of ${augments}: ${alone.toFixed(2)} ms (${(recompute / alone).toFixed(0)}x faster)`,
  );
  console.log(
    `augment salesTotals with salesRanking and authorSales following, median of ${augments}: ${chained.toFixed(2)} ms (${(recompute / chained).toFixed(0)}x faster)`,
  );
  console.log(`augmented values equal full recomputes: ${equal}`);
} finally {
  await engine.stop();
  await db.close();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
  await pg.stop();
}
