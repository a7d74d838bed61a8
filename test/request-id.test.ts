import { afterAll, beforeAll, expect, it } from "vitest";
import { readConfig } from "../src/config.ts";
import { KckError } from "../src/errors.ts";
import { createLogger } from "../src/logger.ts";
import { control, fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

// Every log line the app writes, parsed.
const lines: Record<string, unknown>[] = [];
let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  const log = createLogger({
    level: "debug",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  kck = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers, log });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

const post = (query: string, headers: Record<string, string> = {}) =>
  fetch(kck.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });

it("honours an incoming x-request-id, echoes it, and puts it on every line the request causes", async () => {
  control.fail = true;
  try {
    const response = await post('{ flaky(id: "r1") }', { "x-request-id": "req-abc.123" });
    expect(response.headers.get("x-request-id")).toBe("req-abc.123");
    await response.json();
  } finally {
    control.fail = false;
  }
  const mine = lines.filter((line) => line["reqId"] === "req-abc.123");
  // The engine's line (it knows nothing of requests) and the access line both carry it.
  expect(mine.map((line) => line["msg"])).toEqual(
    expect.arrayContaining(["compute failed", "request"]),
  );
  expect(mine.find((line) => line["msg"] === "compute failed")).toMatchObject({
    key: "flaky/r1",
    level: 40,
  });
  expect(mine.find((line) => line["msg"] === "request")).toMatchObject({
    method: "POST",
    path: "/graphql",
    status: 200,
  });
});

it("makes a request id when none or an unusable one is sent", async () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const none = await post("{ square(n: 1) { square } }");
  const made = none.headers.get("x-request-id") ?? "";
  expect(made).toMatch(uuid);
  await none.text();
  expect(lines.some((line) => line["reqId"] === made && line["msg"] === "request")).toBe(true);

  for (const unusable of ["has spaces in it", "x".repeat(200)]) {
    const response = await post("{ square(n: 1) { square } }", { "x-request-id": unusable });
    expect(response.headers.get("x-request-id")).toMatch(uuid);
    await response.text();
  }
  // The dashboard and metrics get ids too.
  const metrics = await fetch(kck.url.replace(/\/graphql$/, "/metrics"), {
    headers: { "x-request-id": "scrape-1" },
  });
  expect(metrics.headers.get("x-request-id")).toBe("scrape-1");
  await metrics.text();
});

it("writes no request id on lines outside any request", () => {
  const startup = lines.find((line) => line["msg"] === "KCK is serving");
  expect(startup).toBeDefined();
  expect(startup).not.toHaveProperty("reqId");
});

it("reads the log level from LOG_LEVEL, and rejects an unknown one", () => {
  expect(readConfig({ LOG_LEVEL: "debug" }).logLevel).toBe("debug");
  expect(readConfig({}).logLevel).toBe("info");
  expect(readConfig({}).commandLogLevel).toBe("error");
  expect(readConfig({ LOG_LEVEL: "warn" }).commandLogLevel).toBe("warn");
  expect(() => readConfig({ LOG_LEVEL: "loud" })).toThrow(KckError);
  expect(() => readConfig({ LOG_LEVEL: "loud" })).toThrow(
    'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "loud".',
  );
});
