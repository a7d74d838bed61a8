import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { feedPrimer, setup } from "../primers/library/feeds.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

/** One remote feed the test server answers, and what it was asked. */
interface Route {
  items: { title: string; author: string }[];
  etag?: string;
  lastModified?: string;
  mode: "ok" | "hang" | "fail";
  requests: {
    ifNoneMatch: string | undefined;
    ifModifiedSince: string | undefined;
    status: number;
  }[];
}

const routes: Record<string, Route> = {
  "/etag": { items: [{ title: "First", author: "A" }], etag: '"v1"', mode: "ok", requests: [] },
  "/modified": {
    items: [{ title: "Dated", author: "B" }],
    lastModified: "Wed, 21 Oct 2015 07:28:00 GMT",
    mode: "ok",
    requests: [],
  },
  "/slow": { items: [{ title: "Good", author: "C" }], etag: '"s1"', mode: "ok", requests: [] },
};

let server: Server;
let base: string;
let database: TestDatabase;
let kck: TestApp;

function answer(route: Route, req: IncomingMessage): number {
  const ifNoneMatch = req.headers["if-none-match"];
  const ifModifiedSince = req.headers["if-modified-since"];
  if (route.mode === "fail") return 503;
  if (route.etag && ifNoneMatch === route.etag) return 304;
  if (!route.etag && route.lastModified && ifModifiedSince === route.lastModified) return 304;
  return 200;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = routes[req.url ?? ""];
    if (route === undefined) return void res.writeHead(404).end();
    if (route.mode === "hang") return; // never answers; the client times out
    const status = answer(route, req);
    route.requests.push({
      ifNoneMatch: req.headers["if-none-match"],
      ifModifiedSince: req.headers["if-modified-since"],
      status,
    });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (route.etag) headers["etag"] = route.etag;
    if (route.lastModified) headers["last-modified"] = route.lastModified;
    res.writeHead(status, headers);
    res.end(status === 200 ? JSON.stringify({ items: route.items }) : undefined);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [feedPrimer({ every: 200, timeoutMs: 300 })],
    setups: [setup],
  });
});

afterAll(async () => {
  await kck?.stop();
  server?.closeAllConnections();
  await new Promise((done) => server?.close(done));
  await database?.drop();
});

const register = (name: string, path: string) =>
  kck.app.engine.db.query("insert into feeds (name, url) values ($1, $2)", [name, base + path]);
const product = (key: string) => kck.app.engine.inspect(key);
const notModified = (route: Route) => route.requests.filter((r) => r.status === 304).length;

describe("scheduled HTTP import", () => {
  it("sends If-None-Match, and a 304 moves freshness without bumping the version", async () => {
    const route = routes["/etag"] as Route;
    await register("etag", "/etag");
    await expect.poll(async () => (await product("feed/etag"))?.version).toBe(1);
    const first = await product("feed/etag");
    expect(first?.value).toMatchObject({ etag: '"v1"', items: [{ title: "First", rank: 1 }] });
    await expect.poll(() => notModified(route)).toBeGreaterThanOrEqual(2);
    expect(route.requests[0]?.ifNoneMatch).toBeUndefined();
    expect(route.requests.slice(1).every((r) => r.ifNoneMatch === '"v1"')).toBe(true);
    const later = await product("feed/etag");
    expect(later?.version).toBe(1);
    expect(later?.computeCount).toBeGreaterThan(first?.computeCount ?? 0);
    expect(later?.computedAt?.getTime()).toBeGreaterThan(first?.computedAt?.getTime() ?? 0);

    route.items = [{ title: "Second", author: "A" }];
    route.etag = '"v2"';
    await expect.poll(async () => (await product("feed/etag"))?.version).toBe(2);
    expect((await product("feed/etag"))?.value).toMatchObject({
      etag: '"v2"',
      items: [{ title: "Second" }],
    });
  });

  it("sends If-Modified-Since when the remote gives only Last-Modified", async () => {
    const route = routes["/modified"] as Route;
    await register("modified", "/modified");
    await expect.poll(() => notModified(route)).toBeGreaterThanOrEqual(2);
    expect(route.requests[1]?.ifModifiedSince).toBe("Wed, 21 Oct 2015 07:28:00 GMT");
    expect((await product("feed/modified"))?.version).toBe(1);
  });

  it("times out, retries with backoff and serves the last good value meanwhile", async () => {
    const route = routes["/slow"] as Route;
    await register("slow", "/slow");
    await expect.poll(async () => (await product("feed/slow"))?.version).toBe(1);
    const good = (await product("feed/slow"))?.value;
    route.mode = "hang";
    const meta = async () =>
      (
        await kck.gql<{ product: Record<string, unknown> }>(
          '{ product(key: "feed/slow") { version lastError refreshJob { status attempts lastError } } }',
        )
      ).data?.product;
    await expect.poll(meta, { timeout: 10_000 }).toMatchObject({
      version: 1,
      lastError: `Computing feed/slow failed: GET ${base}/slow did not answer within 300 ms.`,
      refreshJob: { status: "RETRYING", attempts: 1 },
    });
    const served = await kck.gql<{ feed: { items: { title: string }[] } }>(
      '{ feed(name: "slow") { items { title } } }',
    );
    expect(served.data?.feed.items).toEqual([{ title: "Good" }]);
    expect((await product("feed/slow"))?.value).toEqual(good);

    route.mode = "ok";
    route.items = [{ title: "Better", author: "C" }];
    route.etag = '"s2"';
    await expect.poll(meta, { timeout: 15_000 }).toMatchObject({ version: 2, lastError: null });
  });
});
