import { randomBytes } from "node:crypto";
import { runLoad } from "../bench/lib/load.ts";
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
await app.engine.get(salesTotals, {});
const SALE = "mutation Sale($sale: SaleInput!) { augmentSalesTotals(delta: $sale) { version } }";
let n = 0;
const sale = () =>
  JSON.stringify({ query: SALE, variables: { sale: { bookId: 1 + (n++ % 200), quantity: 1 } } });
for (const c of [1, 8, 32, 64]) {
  const s0 = app.engine.db.stats.statements;
  const r = await runLoad(gql, { nextBody: sale }, { connections: c, seconds: 3 });
  const st = app.engine.db.stats.statements - s0;
  console.log(
    `connections ${c}: ${r.rps.toFixed(0)}/s p50 ${r.p50} p99 ${r.p99}; statements/augment ${(st / r.requests).toFixed(2)}`,
  );
}
await app.stop();
await admin.query(`drop database ${name} with (force)`);
await admin.end();
