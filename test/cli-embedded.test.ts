import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli, type ServingCli, serveCli } from "./helpers/cli.ts";

// The `kck` commands on the embedded PostgreSQL (no DATABASE_URL, data under KCK_DATA_DIR).
// Two embedded starts in all: `migrate` starts (and creates) the server on its own, then
// `serve` starts it again and every other command joins the server `serve` runs.
let dataDir: string;
let server: ServingCli | undefined;
const env = () => ({ KCK_DATA_DIR: dataDir });
const kck = (args: string[]) => runCli(args, { env: env() });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "kck-cli-embedded-"));
});

afterAll(async () => {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it("migrate creates the embedded database, migrates it and stops it", async () => {
  const { code, stdout, stderr } = await kck(["migrate"]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(stdout).toMatch(/^applied 000001-products.sql\napplied 000002-jobs.sql\n/);
  // The server was stopped again: its lock file is gone.
  await expect(access(join(dataDir, "pg", "postmaster.pid"))).rejects.toThrow();
});

it("every command works on the embedded database that `kck serve` runs", async () => {
  server = await serveCli({ env: { ...env(), LOG_LEVEL: "warn" } });
  const get = await kck(["get", "authorProfile/1"]);
  expect(get.stderr).toBe("");
  expect(JSON.parse(get.stdout)).toMatchObject({ name: "Jorge Costa" });

  const [prime, refresh, graph] = await Promise.all([
    kck(["prime", "--primer", "author", "--params-sql", 'select 2 as "authorId"', "--json"]),
    kck(["refresh", "titleList/1"]),
    kck(["graph", "--format", "mermaid"]),
  ]);
  expect(JSON.parse(prime.stdout)).toMatchObject({ keys: ["author/2"], computed: 1 });
  expect(refresh).toMatchObject({ code: 0 });
  expect(refresh.stdout).toMatch(/^refreshed {2}titleList\/1: version 1/);
  expect(graph.stdout).toContain('n1["authorProfile/1"]');
  expect(graph.stdout).toContain("n1 --> n0");

  const [invalidate, inspect, missing] = await Promise.all([
    kck(["invalidate", "author/2"]),
    kck(["inspect", "authorProfile/1", "--json"]),
    kck(["inspect", "author/3"]),
  ]);
  expect(invalidate).toMatchObject({ code: 0, stdout: "invalidated author/2\n" });
  expect(JSON.parse(inspect.stdout)).toMatchObject({
    key: "authorProfile/1",
    dependencies: [
      { key: "author/1", state: "FRESH", version: 1 },
      { key: "titleList/1", state: "FRESH", version: 1 },
    ],
  });
  expect(missing.code).toBe(3);

  // What the commands did is what the gateway serves.
  const response = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: '{ product(key: "titleList/1") { computeCount } }' }),
  });
  expect(await response.json()).toEqual({ data: { product: { computeCount: 2 } } });

  expect(await server.stop()).toBe(0);
  server = undefined;
  await expect(access(join(dataDir, "pg", "postmaster.pid"))).rejects.toThrow();
});
