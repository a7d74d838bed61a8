import { quickAddJob, runMigrations } from "graphile-worker";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { calls, control, fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { type Family, parsePrometheus, sampleValue } from "./helpers/prometheus.ts";

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

beforeEach(() => {
  control.fail = false;
  control.delayMs = 0;
});

const scrape = async (app: TestApp = kck): Promise<Map<string, Family>> => {
  const response = await fetch(app.url.replace(/\/graphql$/, "/metrics"));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
};

/** How much each named sample moved between two scrapes. */
const moved =
  (before: Map<string, Family>, after: Map<string, Family>) =>
  (name: string, labels: Record<string, string> = {}) =>
    sampleValue(after, name, labels) - sampleValue(before, name, labels);

describe("/metrics", () => {
  it("is Prometheus text with every KCK family, typed", async () => {
    const families = await scrape();
    const types = Object.fromEntries(
      [...families].filter(([name]) => name.startsWith("kck_")).map(([name, f]) => [name, f.type]),
    );
    expect(types).toEqual({
      kck_product_hits_total: "counter",
      kck_product_misses_total: "counter",
      kck_product_stale_serves_total: "counter",
      kck_computes_total: "counter",
      kck_compute_failures_total: "counter",
      kck_compute_duration_seconds: "histogram",
      kck_open_subscriptions: "gauge",
      kck_change_events_total: "counter",
      kck_change_event_lag_seconds: "histogram",
      kck_queue_depth: "gauge",
    });
    for (const family of families.values()) expect(family.help).not.toBe("");
    // A test app does not export process metrics (createApp's processMetrics is off).
    expect(families.has("process_cpu_user_seconds_total")).toBe(false);
  });

  it("counts misses, computes and their duration, then hits, per primer", async () => {
    const before = await scrape();
    await kck.gql("{ square(n: 2) { square } }");
    await kck.gql("{ square(n: 2) { square } }");
    const delta = moved(before, await scrape());
    expect(delta("kck_product_misses_total", { primer: "square" })).toBe(1);
    expect(delta("kck_computes_total", { primer: "square" })).toBe(1);
    expect(delta("kck_product_hits_total", { primer: "square" })).toBe(1);
    expect(delta("kck_compute_duration_seconds_count", { primer: "square" })).toBe(1);
    expect(delta("kck_compute_duration_seconds_bucket", { primer: "square", le: "+Inf" })).toBe(1);
    expect(delta("kck_computes_total", { primer: "clock" })).toBe(0);
  });

  it("counts reads made by computes, and compute failures", async () => {
    const before = await scrape();
    await kck.gql("{ sumOfSquares(n: 3) }");
    control.fail = true;
    await kck.gql('{ flaky(id: "m") }');
    const delta = moved(before, await scrape());
    // sumOfSquares/3 read square/1..3: square/2 was stored (a hit), the others not.
    expect(delta("kck_product_hits_total", { primer: "square" })).toBe(1);
    expect(delta("kck_computes_total", { primer: "square" })).toBe(2);
    expect(delta("kck_computes_total", { primer: "sumOfSquares" })).toBe(1);
    expect(delta("kck_compute_failures_total", { primer: "flaky" })).toBe(1);
    expect(delta("kck_computes_total", { primer: "flaky" })).toBe(0);
    expect(delta("kck_compute_duration_seconds_count", { primer: "flaky" })).toBe(1);
  });

  it("counts stale serves and the background refresh they start", async () => {
    await kck.gql("{ clock(id: 5) }");
    await new Promise((resolve) => setTimeout(resolve, 80));
    const before = await scrape();
    expect(await kck.gql("{ clock(id: 5) }")).toEqual({ data: { clock: 1 } });
    await expect.poll(() => calls.get("clock/5"), { timeout: 5000 }).toBe(2);
    await expect
      .poll(async () => moved(before, await scrape())("kck_computes_total", { primer: "clock" }), {
        timeout: 5000,
      })
      .toBe(1);
    const delta = moved(before, await scrape());
    expect(delta("kck_product_stale_serves_total", { primer: "clock" })).toBe(1);
    expect(delta("kck_product_misses_total", { primer: "clock" })).toBe(0);
  });

  it("counts change events by kind and measures their lag", async () => {
    const before = await scrape();
    await kck.gql("{ square(n: 40) { square } }");
    await kck.gql('mutation { invalidate(key: "square/40") { key } }');
    await expect
      .poll(
        async () => moved(before, await scrape())("kck_change_events_total", { op: "invalidate" }),
        {
          timeout: 5000,
        },
      )
      .toBe(1);
    const after = await scrape();
    const delta = moved(before, after);
    expect(delta("kck_change_events_total", { op: "compute" })).toBe(1);
    expect(delta("kck_change_event_lag_seconds_count")).toBe(2);
    expect(sampleValue(after, "kck_change_event_lag_seconds_sum")).toBeGreaterThanOrEqual(0);
  });

  it("reports open subscriptions as the subscription layer opens and closes them", async () => {
    kck.app.metrics.subscriptionOpened("square");
    kck.app.metrics.subscriptionOpened("square");
    kck.app.metrics.subscriptionOpened("clock");
    kck.app.metrics.subscriptionClosed("square");
    const families = await scrape();
    expect(sampleValue(families, "kck_open_subscriptions", { primer: "square" })).toBe(1);
    expect(sampleValue(families, "kck_open_subscriptions", { primer: "clock" })).toBe(1);
  });

  it("keeps each app's metrics apart in one process", async () => {
    const other = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers });
    try {
      const before = await scrape();
      await other.gql("{ square(n: 41) { square } }");
      const mine = moved(before, await scrape());
      expect(mine("kck_product_misses_total", { primer: "square" })).toBe(0);
      const theirs = await scrape(other);
      expect(sampleValue(theirs, "kck_product_misses_total", { primer: "square" })).toBe(1);
    } finally {
      await other.stop();
    }
  });

  it("reports the job queue's depth by state", async () => {
    const empty = await scrape();
    for (const state of ["ready", "scheduled", "running", "failed"])
      expect(sampleValue(empty, "kck_queue_depth", { state })).toBe(0);
    await runMigrations({ connectionString: database.url });
    const options = { connectionString: database.url };
    // A task no worker here knows, so the jobs stay where they are put.
    await quickAddJob(options, "kck_metrics_probe", { key: "square/1" });
    await quickAddJob(options, "kck_metrics_probe", { key: "square/2" });
    await quickAddJob(
      options,
      "kck_metrics_probe",
      { key: "square/3" },
      { runAt: new Date(Date.now() + 3_600_000) },
    );
    const families = await scrape();
    expect(sampleValue(families, "kck_queue_depth", { state: "ready" })).toBe(2);
    expect(sampleValue(families, "kck_queue_depth", { state: "scheduled" })).toBe(1);
    expect(sampleValue(families, "kck_queue_depth", { state: "running" })).toBe(0);
  });
});

describe("the strict parser these tests read metrics with", () => {
  it("rejects what Prometheus would reject", () => {
    expect(() => parsePrometheus("kck_x 1\n")).toThrow(/has no # TYPE/);
    expect(() => parsePrometheus("# TYPE kck_x counter\nkck_x{a=b} 1\n")).toThrow(/not quoted/);
    expect(() => parsePrometheus("# TYPE kck_x counter\nkck_x one\n")).toThrow(/not a sample/);
    expect(() => parsePrometheus("# TYPE kck_x counter\nkck_x 1")).toThrow(/newline/);
    const ok = parsePrometheus('# TYPE kck_x counter\nkck_x{a="q\\"b"} 2\n');
    expect(sampleValue(ok, "kck_x", { a: 'q"b' })).toBe(2);
  });
});
