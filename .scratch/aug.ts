import { randomBytes } from "node:crypto";
import { sequential } from "../bench/lib/sequential.ts";
import { salesTotals } from "../primers/library/sales.ts";
import { seedLibrary } from "../primers/library/setup.ts";
import { createApp } from "../src/app.ts";
import { connectClient, createDb } from "../src/db/db.ts";
import { loadPrimers } from "../src/load-primers.ts";

const server = "postgres://postgres@127.0.0.1:5432/test";
const name = `kck_scratch_${randomBytes(3).toString("hex")}`;
const admin = await connectClient(server, "x");
await admin.query(`create database ${name}`);
const url = `postgres://postgres@127.0.0.1:5432/${name}`;
const db = createDb({ url });
const { migrate } = await import("../src/db/migrate.ts");
await migrate(db);
await seedLibrary(db, { sales: 100_000 });
await db.close();
const { primers, setups } = await loadPrimers("primers");
const app = createApp({ primers, setups, databaseUrl: url, port: 0, host: "127.0.0.1" });
const { url: gql } = await app.start();
const SALE = "mutation Sale($sale: SaleInput!) { augmentSalesTotals(delta: $sale) { version } }";
const sale = (n: number) =>
  JSON.stringify({ query: SALE, variables: { sale: { bookId: 1 + (n % 200), quantity: 1 } } });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
await app.engine.get(salesTotals, {});
for (let r = 0; r < 3; r++) {
  const t: number[] = [];
  for (let i = 0; i < 300; i++) {
    const s = performance.now();
    await app.engine.augment(salesTotals, {}, { bookId: 1 + (i % 200), quantity: 1 });
    t.push(performance.now() - s);
  }
  const h = (
    await sequential(
      gql,
      Array.from({ length: 300 }, (_, n) => sale(n)),
      "x",
    )
  ).times;
  const q = (
    await sequential(
      gql,
      Array.from({ length: 300 }, () =>
        JSON.stringify({ query: '{ product(key: "salesTotals") { version } }' }),
      ),
      "x",
    )
  ).times;
  console.log(
    `engine ${med(t).toFixed(2)} ms  http ${med(h).toFixed(2)} ms  http product-meta query ${med(q).toFixed(2)} ms`,
  );
}
await app.stop();
await admin.query(`drop database ${name} with (force)`);
await admin.end();
