import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHttpHandler } from "../src/gateway/server/http-handler.ts";
import { createLogger } from "../src/logger.ts";
import { createMetrics } from "../src/metrics/metrics.ts";
import { createTestDatabase, type TestDatabase, testDb } from "./helpers/db.ts";

// A request that fails outside GraphQL (a bug in a route, a driver error) answers 500 with an
// error id; the cause (which may hold a driver's text or a connection string) reaches only the log.
let database: TestDatabase;
let db: ReturnType<typeof testDb>;
let server: Server;
let url: string;
const logged: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = testDb(database.url);
  const handler = createHttpHandler({
    graphql: () => {
      throw new Error('relation "secret_table" does not exist (postgres://kck:hunter2@db/app)');
    },
    db,
    metrics: createMetrics({ processMetrics: false }),
    bodyBytes: 1000,
    log: createLogger({ destination: { write: (line: string) => logged.push(line) } }),
  });
  server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  await db.close();
  await database.drop();
});

it("answers 500 with an error id and logs the cause under that id", async () => {
  const response = await fetch(url, { method: "POST", body: "{}" });
  expect(response.status).toBe(500);
  const text = await response.text();
  expect(text).not.toContain("secret_table");
  expect(text).not.toContain("hunter2");
  const { errorId } = JSON.parse(text) as { errorId: string };
  expect(errorId).toMatch(/^[0-9a-f]{12}$/);
  const line = logged.find((entry) => entry.includes(errorId));
  expect(line).toContain("secret_table");
  expect(line).not.toContain("hunter2");
});
