import type { Client } from "graphql-ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fixturePrimers } from "./fixtures/counting.ts";
import { ledgerPrimers, setupLedger } from "./fixtures/ledger.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { type Family, parsePrometheus, sampleValue } from "./helpers/prometheus.ts";
import { collectSse } from "./helpers/sse.ts";
import { collect, wsClient } from "./helpers/subscribe.ts";

let database: TestDatabase;
let kck: TestApp;
const clients: Client[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [...fixturePrimers, ...ledgerPrimers],
    setups: [setupLedger],
    jobs: { worker: false },
  });
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await kck?.stop();
  await database?.drop();
});

const scrape = async (): Promise<Map<string, Family>> =>
  parsePrometheus(await (await fetch(kck.url.replace(/\/graphql$/, "/metrics"))).text());

/** Scrapes until `predicate` holds (the metrics follow events that arrive asynchronously). */
async function scrapeUntil(
  predicate: (families: Map<string, Family>) => boolean,
): Promise<Map<string, Family>> {
  for (;;) {
    const families = await scrape();
    if (predicate(families)) return families;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const open = (families: Map<string, Family>, primer: string) =>
  sampleValue(families, "kck_open_subscriptions", { primer });

it("counts every subscription opened and closed, over WebSocket and SSE, in kck_open_subscriptions", async () => {
  expect(open(await scrape(), "square")).toBe(0);
  const client = wsClient(kck.url);
  clients.push(client);
  const ws = [1, 2].map((n) =>
    collect(client, `subscription { square(n: ${n}) { version } }`, "square"),
  );
  const sse = collectSse(kck.url, "subscription { square(n: 1) { version } }", "square");
  for (const s of [...ws, sse]) await s.until((values) => values.length > 0);
  expect(open(await scrape(), "square")).toBe(3);
  ws[0]?.stop();
  await scrapeUntil((f) => open(f, "square") === 2);
  sse.stop();
  await scrapeUntil((f) => open(f, "square") === 1);
  ws[1]?.stop();
  await scrapeUntil((f) => open(f, "square") === 0);
});

it("measures the lag of every kind of change event: compute, augment, invalidate", async () => {
  const engine = kck.app.engine;
  const before = await scrape();
  const events = (f: Map<string, Family>, op: string) =>
    sampleValue(f, "kck_change_events_total", { op }) -
    sampleValue(before, "kck_change_events_total", { op });
  await engine.get("account/lag");
  await kck.gql('mutation { augmentAccount(id: "lag", delta: { amount: 3 }) { version } }');
  await engine.invalidate("account/lag");
  await engine.refresh("account/lag");
  const after = await scrapeUntil(
    (f) => events(f, "augment") >= 1 && events(f, "invalidate") >= 1 && events(f, "compute") >= 2,
  );
  const heard = ["compute", "augment", "invalidate"].reduce(
    (sum, op) => sum + events(after, op),
    0,
  );
  const timed =
    sampleValue(after, "kck_change_event_lag_seconds_count") -
    sampleValue(before, "kck_change_event_lag_seconds_count");
  expect(timed).toBe(heard);
});
