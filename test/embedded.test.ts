import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type App, createApp } from "../src/app.ts";
import { calls, fixturePrimers } from "./fixtures/counting.ts";

let dataDir: string;
let app: App | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "kck-embedded-"));
});

afterAll(async () => {
  await app?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const start = async () => {
  app = createApp({ primers: fixturePrimers, dataDir, port: 0, host: "127.0.0.1" });
  return (await app.start()).url;
};

const gql = async (url: string, query: string) =>
  (await (
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    })
  ).json()) as {
    data: Record<string, unknown>;
  };

it("starts its own PostgreSQL when no DATABASE_URL is given, and keeps the data across restarts", async () => {
  const first = await start();
  expect((await gql(first, "{ square(n: 5) { square } }")).data).toEqual({
    square: { square: 25 },
  });
  await app?.stop();
  app = undefined;

  const second = await start();
  const { data } = await gql(
    second,
    '{ square(n: 5) { square } product(key: "square/5") { computeCount version } }',
  );
  expect(data).toEqual({ square: { square: 25 }, product: { computeCount: 1, version: 1 } });
  expect(calls.get("square/5")).toBe(1);
});
