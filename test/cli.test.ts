import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, serveCli, startCli } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

// The real `kck` bin, as a child process, against a database of its own on the test server,
// with the demo primers (primers/library).
let database: TestDatabase;
let kck: (args: string[], input?: string) => ReturnType<typeof runCli>;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = (args, input) =>
    runCli(args, { env: { DATABASE_URL: database.url }, ...(input ? { input } : {}) });
});

afterAll(async () => {
  await database?.drop();
});

describe("migrate", () => {
  it("applies the migrations once, then reports the database up to date", async () => {
    const first = await kck(["migrate", "--json"]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(first.stdout)).toContain("000001-products.sql");
    const second = await kck(["migrate"]);
    expect(second).toEqual({ code: 0, stdout: "The database is up to date.\n", stderr: "" });
  });
});

describe("get", () => {
  it("prints a product's value as JSON, computing it", async () => {
    const { code, stdout, stderr } = await kck(["get", "authorProfile/3"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ name: "Haruki Okafor", titleCount: 6 });
  });

  it("exits 1 with the compute's error when the compute fails", async () => {
    const { code, stdout, stderr } = await kck(["get", "author/999"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "kck: COMPUTE_FAILED: Computing author/999 failed: There is no author with id 999.\n",
    );
  });

  it("exits 2 on a bad key, an unknown command or a missing argument", async () => {
    const [bad, unknown, command, missing] = await Promise.all([
      kck(["get", "author/x"]),
      kck(["get", "nobody/1"]),
      kck(["frobnicate"]),
      kck(["get"]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^kck: BAD_KEY: Key "author\/x": param "authorId"/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^kck: UNKNOWN_PRIMER: .*known primers: author, authorProfile/);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'frobnicate'");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'key'");
  });
});

describe("inspect", () => {
  it("shows metadata and the dependency tree, as text and as JSON", async () => {
    const text = await kck(["inspect", "authorProfile/3"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("state          FRESH");
    expect(text.stdout).toMatch(/├─ author\/3 {2}FRESH v1\n {2}└─ titleList\/3 {2}FRESH v1/);
    const json = await kck(["inspect", "author/3", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      key: "author/3",
      primer: "author",
      state: "FRESH",
      version: 1,
      computeCount: 1,
      dependencies: [],
      dependents: ["authorProfile/3"],
    });
  });

  it("exits 3 for a key never stored, and computes nothing", async () => {
    const { code, stderr } = await kck(["inspect", "author/7"]);
    expect(code).toBe(3);
    expect(stderr).toBe(
      "kck: NOT_FOUND: No product is stored under author/7; `kck get author/7` computes it.\n",
    );
    expect((await kck(["inspect", "author/7"])).code).toBe(3);
  });
});

describe("refresh and invalidate", () => {
  it("refresh recomputes; invalidate expires; both exit 3/1 on what they cannot do", async () => {
    const refreshed = await kck(["refresh", "author/3", "--json"]);
    expect(refreshed.code).toBe(0);
    expect(JSON.parse(refreshed.stdout)).toMatchObject({ key: "author/3", computeCount: 2 });

    const failed = await kck(["refresh", "author/3", "author/998"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^refreshed {2}author\/3: version 1/m);
    expect(failed.stdout).toMatch(/^failed {5}author\/998: .*no author with id 998/m);

    const invalidated = await kck(["invalidate", "author/3"]);
    expect(invalidated).toMatchObject({ code: 0, stdout: "invalidated author/3\n" });
    expect(JSON.parse((await kck(["inspect", "author/3", "--json"])).stdout).state).toBe("EXPIRED");
    const missing = await kck(["invalidate", "author/3", "author/6"]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe("invalidated author/3\nnot stored  author/6\n");
  });
});

describe("prime", () => {
  it("primes a primer's domain from SQL with a progress bar, then reports it fresh", async () => {
    const args = [
      "prime",
      "--primer",
      "titleList",
      "--params-sql",
      'select id as "authorId" from authors where id <= 12 order by id',
      "--progress",
    ];
    const first = await kck(args);
    expect(first.stderr).toContain("100% 12/12 products, 0 failed");
    expect(first).toMatchObject({ code: 0 });
    // titleList/3 was computed for authorProfile/3 above.
    expect(first.stdout).toBe("primed 12 products: 11 computed, 1 already fresh, 0 failed\n");
    const again = await kck([...args.slice(0, -1), "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ computed: 0, alreadyFresh: 12, failed: [] });
  });

  it("primes keys and params from stdin, and exits 1 naming the ones that failed", async () => {
    const { code, stdout } = await kck(
      ["prime", "catalog", "--primer", "author", "--params-json", "-", "--json"],
      JSON.stringify([{ authorId: 20 }, { authorId: 997 }]),
    );
    expect(code).toBe(1);
    const outcome = JSON.parse(stdout);
    expect(outcome.keys).toEqual(["catalog", "author/20", "author/997"]);
    expect(outcome.computed).toBe(2);
    expect(outcome.failed).toEqual([
      { key: "author/997", error: "Computing author/997 failed: There is no author with id 997." },
    ]);
  });

  it("exits 2 when told nothing to prime, a bad key, or a query that writes", async () => {
    const [nothing, badKey, writes] = await Promise.all([
      kck(["prime"]),
      kck(["prime", "author/1", "author/x"]),
      kck([
        "prime",
        "--primer",
        "author",
        "--params-sql",
        'delete from authors returning id as "authorId"',
      ]),
    ]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toBe(
      "kck: USAGE: Give keys to prime, or --primer NAME with its params.\n",
    );
    expect(badKey.code).toBe(2);
    expect(writes.code).toBe(2);
    expect(writes.stderr).toContain("read-only transaction");
    const { stdout } = await kck(["get", "author/1"]);
    expect(JSON.parse(stdout)).toMatchObject({ id: 1 });
  });
});

describe("graph", () => {
  it("prints the dependency graph as DOT, Mermaid and JSON, whole or around a key", async () => {
    const dot = await kck(["graph"]);
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph kck \{/);
    expect(dot.stdout).toContain('"authorProfile/3" -> "author/3";');
    expect(dot.stdout).toContain('"catalog" -> "genreStats/novel";');

    const mermaid = await kck(["graph", "--format", "mermaid", "--key", "authorProfile/3"]);
    expect(mermaid.stdout.split("\n").slice(0, 6)).toEqual([
      "flowchart LR",
      '  n0["author/3"]',
      '  n1["authorProfile/3"]',
      '  n2["titleList/3"]',
      "  n1 --> n0",
      "  n1 --> n2",
    ]);

    const json = JSON.parse((await kck(["graph", "-f", "json", "--primer", "catalog"])).stdout);
    expect(json.edges).toHaveLength(6);
    expect(json.edges).toContainEqual({ from: "catalog", to: "genreStats/poetry" });
    expect((await kck(["graph", "--format", "png"])).code).toBe(2);
  });
});

describe("worker, codegen and serve", () => {
  it("worker refuses the embedded database with exit 2, and runs jobs until SIGTERM", async () => {
    const refused = await runCli(["worker"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^kck: USAGE: A dedicated worker needs DATABASE_URL/);
    const child = startCli(["worker"], { env: { DATABASE_URL: database.url } });
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    await expect.poll(() => stdout, { timeout: 30_000 }).toContain("KCK worker started");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("codegen runs `npm run codegen` in the current folder and passes its failure on", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kck-codegen-"));
    try {
      const script = (body: string) =>
        writeFile(
          join(dir, "package.json"),
          JSON.stringify({ name: "x", private: true, scripts: { codegen: body } }),
        );
      await script("node -e \"require('fs').writeFileSync('generated.txt', 'ok')\"");
      const ok = await runCli(["codegen"], { cwd: dir });
      expect(ok.code).toBe(0);
      expect(await readFile(join(dir, "generated.txt"), "utf8")).toBe("ok");
      await script('node -e "process.exit(3)"');
      const failed = await runCli(["codegen"], { cwd: dir });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain("kck: FAILURE: `npm run codegen` exited with 3.");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("serve answers GraphQL, /health and /metrics, and exits 0 on SIGTERM", async () => {
    const server = await serveCli({ env: { DATABASE_URL: database.url, LOG_LEVEL: "warn" } });
    try {
      const response = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ author(authorId: 5) { name } }" }),
      });
      expect(await response.json()).toEqual({ data: { author: { name: "Italo Novak" } } });
      const base = server.url.replace(/\/graphql$/, "");
      expect(await (await fetch(`${base}/health`)).json()).toEqual({
        status: "ok",
        database: "up",
      });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^kck_computes_total\{primer="author"\} 1$/m);
      expect(metrics).toContain("process_cpu_user_seconds_total");
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
