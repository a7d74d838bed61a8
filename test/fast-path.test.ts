import { afterAll, beforeAll, expect, it } from "vitest";
import { definePrimer, param } from "../src/index.ts";
import { control, fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

/** Fresh for an hour: its answers' max-age counts down from 3600. */
const hourly = definePrimer({
  name: "hourly",
  params: { id: param.int() },
  type: "Int",
  fresh: "1h",
  compute: ({ id }) => id * 10,
});

let database: TestDatabase;
let on: TestApp;
let off: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  const common = {
    databaseUrl: database.url,
    primers: [...fixturePrimers, hourly],
    cacheMaxAge: 86_400,
    poolSize: 4,
  };
  on = await startTestApp(common);
  off = await startTestApp({ ...common, memory: false, responseCache: false });
});

afterAll(async () => {
  await on?.stop();
  await off?.stop();
  await database?.drop();
});

const hits = () => on.app.responseCache?.stats().hits ?? 0;
const post = (app: TestApp, body: string, headers: Record<string, string> = {}) =>
  fetch(app.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
const maxAge = (response: Response) =>
  Number(/max-age=(\d+)/.exec(response.headers.get("cache-control") ?? "")?.[1]);

/** Warms a query until the fast path answers it, and returns that answer. */
async function kept(body: string): Promise<Response> {
  for (let n = 0; n < 5; n++) {
    const before = hits();
    const response = await post(on, body);
    if (hits() > before) return response;
    await response.text();
  }
  throw new Error("The fast path never kept the answer.");
}

it("counts kept answers' Cache-Control down to the products' freshness", async () => {
  const body = JSON.stringify({ query: "{ hourly(id: 1) }" });
  const first = await kept(body);
  await first.text();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const before = hits();
  const later = await post(on, body);
  expect(hits()).toBe(before + 1);
  expect(maxAge(later)).toBeLessThan(maxAge(first));
  expect(later.headers.get("etag")).toBe(first.headers.get("etag"));
});

it("answers a kept answer's ETag in If-None-Match with 304, as yoga does", async () => {
  const body = JSON.stringify({ query: "{ hourly(id: 2) }" });
  const etag = (await kept(body)).headers.get("etag") ?? "";
  const before = hits();
  const [layered, plain] = await Promise.all(
    [on, off].map((app) => post(app, body, { "if-none-match": etag })),
  );
  expect(hits()).toBe(before + 1);
  expect(layered?.status).toBe(304);
  expect(plain?.status).toBe(304);
  expect(await layered?.text()).toBe("");
});

it("refuses a content type yoga refuses, even for a kept query", async () => {
  const body = JSON.stringify({ query: "{ hourly(id: 3) }" });
  await (await kept(body)).text();
  const [layered, plain] = await Promise.all(
    [on, off].map((app) => post(app, body, { "content-type": "application/jsonx" })),
  );
  expect(plain?.status).toBe(415);
  expect(layered?.status).toBe(415);
});

it("counts kept answers as reads: read times, hit metrics", async () => {
  const body = JSON.stringify({ query: "{ hourly(id: 4) }" });
  await (await kept(body)).text();
  const db = on.app.engine.db;
  // Wait for the reads so far to be written, then forget them.
  await expect
    .poll(
      async () =>
        (await db.query("select read_at from kck.products where key = 'hourly/4'")).rows[0]?.[
          "read_at"
        ] ?? null,
    )
    .not.toBeNull();
  await db.query("update kck.products set read_at = null where key = 'hourly/4'");
  const hitsMetric = async () => {
    const metric = await on.app.metrics.registry.getSingleMetric("kck_product_hits_total")?.get();
    return metric?.values.find((v) => v.labels["primer"] === "hourly")?.value ?? 0;
  };
  const metricBefore = await hitsMetric();
  const before = hits();
  await (await post(on, body)).text();
  expect(hits()).toBe(before + 1);
  expect(await hitsMetric()).toBe(metricBefore + 1);
  await expect
    .poll(
      async () =>
        (await db.query("select read_at from kck.products where key = 'hourly/4'")).rows[0]?.[
          "read_at"
        ] ?? null,
    )
    .not.toBeNull();
});

it("hands a subscription POSTed as JSON with no Accept to yoga, and a hang-up releases it", async () => {
  const body = JSON.stringify({ query: "subscription { hourly(id: 5) { value } }" });
  for (const accept of [undefined, "*/*"]) {
    const controllers = Array.from({ length: 20 }, () => new AbortController());
    const firsts = await Promise.all(
      controllers.map(async (controller) => {
        const response = await fetch(on.url, {
          method: "POST",
          headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
          body,
          signal: controller.signal,
        });
        const reader = response.body?.getReader();
        let text = "";
        while (reader && !text.includes("data")) {
          const { done, value } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        controller.abort();
        return text;
      }),
    );
    for (const first of firsts) expect(first).toContain('{"data":{"hourly":{"value":50}}}');
    await expect.poll(() => on.app.hub.size).toBe(0);
  }
});

it("answers a huge query as yoga does, without parsing it past the token limit", async () => {
  const fields = Array.from({ length: 60_000 }, (_, n) => `f${n}: hourly(id: 1)`).join(" ");
  const body = JSON.stringify({ query: `{ ${fields} }` });
  expect(body.length).toBeGreaterThan(900_000);
  const [layered, plain] = await Promise.all([post(on, body), post(off, body)]);
  expect(layered.status).toBe(plain.status);
  expect(await layered.text()).toBe(await plain.text());
});

it("answers known documents with new variables outside yoga's HTTP layer, as yoga does", async () => {
  const query = "query Flaky($id: String!) { flaky(id: $id) }";
  const ask = (app: TestApp, id: string) =>
    post(app, JSON.stringify({ query, variables: { id } }), {
      accept: "application/graphql-response+json",
    });
  const comparable = async (response: Response) => ({
    status: response.status,
    type: response.headers.get("content-type"),
    cache: response.headers.get("cache-control"),
    etag: response.headers.get("etag"),
    body: await response.text(),
  });
  // Yoga answers the document once; then the layered gateway answers it itself.
  await (await ask(on, "first")).text();
  const direct = () => on.app.responseCache?.stats().direct ?? 0;
  const before = direct();
  const [layered, plain] = await Promise.all([ask(on, "second"), ask(off, "second")]);
  expect(direct()).toBe(before + 1);
  expect(await comparable(layered as Response)).toEqual(await comparable(plain as Response));
  // A compute that fails: yoga's answer with errors, built by yoga's own result processor.
  control.fail = true;
  try {
    const failed = await ask(on, "third");
    const again = await ask(off, "third");
    expect(direct()).toBe(before + 2);
    const a = await comparable(failed);
    expect(a.body).toContain("COMPUTE_FAILED");
    expect(a).toEqual(await comparable(again));
  } finally {
    control.fail = false;
  }
});
