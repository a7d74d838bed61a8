import { randomBytes } from "node:crypto";
import pg from "pg";
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
await app.start();
await app.engine.get(salesTotals, {});
// Time every statement on the session pool during augments.
const orig = pg.Client.prototype.query;
const times = new Map<string, number[]>();
(pg.Client.prototype as any).query = function (...args: any[]) {
  const text = typeof args[0] === "string" ? args[0] : args[0]?.text;
  const s = performance.now();
  const r = orig.apply(this, args as never) as any;
  if (r && typeof r.then === "function")
    r.then(
      () => {
        const k = String(text).replace(/\s+/g, " ").slice(0, 60);
        (times.get(k) ?? times.set(k, []).get(k)!).push(performance.now() - s);
      },
      () => {},
    );
  return r;
};
const total: number[] = [];
for (let i = 0; i < 300; i++) {
  const s = performance.now();
  await app.engine.augment(salesTotals, {}, { bookId: 1 + (i % 200), quantity: 1 });
  total.push(performance.now() - s);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log("total", med(total).toFixed(3));
for (const [k, v] of times) console.log(v.length, med(v).toFixed(3), k);
(pg.Client.prototype as any).query = orig;
await app.stop();
await admin.query(`drop database ${name} with (force)`);
await admin.end();
