import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePrimer, param } from "../../src/index.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { recordCounts } from "../helpers/reliability.ts";

const computed = new Set<string>();
/** Any id is a product: a flood of made-up ids is a flood of new keys. */
const floodItem = definePrimer({
  name: "floodItem",
  params: { id: param.int() },
  type: "Int",
  store: { maxProducts: 50 },
  compute: ({ id }, ctx) => {
    computed.add(ctx.key);
    return id;
  },
});

const PER_SECOND = 20;
const BURST = 100;
const WINDOW_S = BURST / PER_SECOND;
const CONNECTIONS = 8;
const ROUNDS = 4;
const ALIASES = 100;

let database: TestDatabase;
let kck: TestApp;
let added = 0;
let kept = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [floodItem],
    newKeys: { perSecond: PER_SECOND, burst: BURST },
    store: { evictIntervalMs: 200 },
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
  await recordCounts({ floodRowsAdded: added, floodRowsKept: kept });
});

const rows = async () =>
  (
    await kck.app.engine.db.query<{ n: number }>(
      "select count(*)::int as n from kck.products where primer = 'floodItem'",
    )
  ).rows[0]?.n ?? 0;

describe("an anonymous flood of new keys", () => {
  it("is held to the client's pace, and the store to its bound", async () => {
    const statuses = new Map<number, number>();
    let next = 1;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const fields = Array.from({ length: ALIASES }, () => {
            const id = next++;
            return `i${id}: floodItem(id: ${id})`;
          });
          const response = await fetch(kck.url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ query: `{ ${fields.join(" ")} }` }),
          });
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    added = computed.size;
    // One budget per window the flood touched (fixed windows: one more at the edges).
    const allowed = BURST * (Math.floor(elapsedS / WINDOW_S) + 2);
    expect(next - 1).toBe(CONNECTIONS * ROUNDS * ALIASES);
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThanOrEqual(allowed);
    expect(statuses.get(429)).toBeGreaterThan(0);
    // The eviction job brings the store back within the primer's bound.
    await expect.poll(rows, { timeout: 20_000 }).toBeLessThanOrEqual(50);
    kept = await rows();
    expect(kept).toBeGreaterThan(0);
  });
});
