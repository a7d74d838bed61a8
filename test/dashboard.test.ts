import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Overview } from "../src/dashboard/overview.ts";
import { loadPrimers } from "../src/load-primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { ROOT } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

// Debian's chromium; .ci/run installs it (apt-get install -y chromium).
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let database: TestDatabase;
let kck: TestApp;
let browser: Browser | undefined;
let shots: string;
let base: string;

beforeAll(async () => {
  await access(CHROMIUM).catch(() => {
    throw new Error(
      `The dashboard test drives headless Chromium at ${CHROMIUM}, which is missing: apt-get install -y chromium (or set CHROMIUM_PATH).`,
    );
  });
  shots = await mkdtemp(join(tmpdir(), "kck-dashboard-"));
  database = await createTestDatabase();
  // The demo: primers/library, with its seeded authors and books.
  const { primers, setups } = await loadPrimers(join(ROOT, "primers"));
  kck = await startTestApp({ databaseUrl: database.url, primers, setups });
  base = kck.url.replace(/\/graphql$/, "");
  const engine = kck.app.engine;
  await engine.prime(["authorProfile/1", "authorProfile/2", "authorProfile/3", "catalog"]);
  await engine.get("author/999").catch(() => {});
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await kck?.stop();
  await database?.drop();
  await rm(shots, { recursive: true, force: true });
});

it("serves the overview as JSON: primers, products, recent computes and errors, the graph", async () => {
  const response = await fetch(`${base}/kck/api/overview`);
  expect(response.headers.get("content-type")).toBe("application/json");
  const overview = (await response.json()) as Overview;
  expect(overview.primers.map((p) => p.name)).toEqual([
    "author",
    "authorProfile",
    "authorSales",
    "catalog",
    "feed",
    "genreStats",
    "salesRanking",
    "salesTotals",
    "titleList",
  ]);
  expect(overview.primers.find((p) => p.name === "author")).toMatchObject({
    params: [{ name: "authorId", type: "Int" }],
    freshMs: 3_600_000,
    staleMs: 86_400_000,
    counts: { products: 4, fresh: 3, missing: 1, failing: 1 },
  });
  expect(overview.errors).toEqual([
    expect.objectContaining({ key: "author/999", state: "MISSING", errorCount: 1 }),
  ]);
  expect(overview.recentComputes).toHaveLength(16);
  expect(overview.graph.edges).toHaveLength(12);
  expect(overview.graph.edges).toContainEqual({ from: "authorProfile/2", to: "titleList/2" });
  expect(overview.graph.nodes).toHaveLength(16);
});

it("draws primers, products and the dependency graph in a browser", async () => {
  const page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  const response = await page.goto(`${base}/kck`);
  expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
  await page.waitForSelector("body[data-loaded=true]");
  const shot = join(shots, "dashboard.png");
  await page.screenshot({ path: shot, fullPage: true });

  // Primers, with their products counted.
  expect(
    await page
      .locator("#primers tbody tr")
      .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-primer"))),
  ).toEqual([
    "author",
    "authorProfile",
    "authorSales",
    "catalog",
    "feed",
    "genreStats",
    "salesRanking",
    "salesTotals",
    "titleList",
  ]);
  expect(await page.locator('#primers tr[data-primer="genreStats"] td').nth(4).textContent()).toBe(
    "6",
  );
  // Products with their freshness, and the failing one with its error.
  await expect(page.locator('#products tr[data-key="catalog"]').textContent()).resolves.toContain(
    "FRESH",
  );
  const failing = await page.locator('#errors tr[data-key="author/999"]').textContent();
  expect(failing).toContain("There is no author with id 999.");
  expect(
    await page.locator('#products tr[data-key="author/999"] .state').allTextContents(),
  ).toEqual(["MISSING", "FAILING"]);
  expect(await page.locator("#computes tbody tr").count()).toBe(16);

  // The graph: one box per product in it, one arrow per dependency, readers left of what they read.
  const nodes = await page
    .locator("#graph svg g.node")
    .evaluateAll((gs) => gs.map((g) => g.getAttribute("data-key")));
  expect(nodes.sort()).toEqual(
    [
      ...[1, 2, 3].flatMap((id) => [`author/${id}`, `authorProfile/${id}`, `titleList/${id}`]),
      "catalog",
      ...["children", "essay", "history", "novel", "poetry", "science"].map(
        (g) => `genreStats/${g}`,
      ),
    ].sort(),
  );
  expect(await page.locator("#graph svg path.edge").count()).toBe(12);
  await expect(
    page.locator('#graph path.edge[data-from="catalog"][data-to="genreStats/poetry"]').count(),
  ).resolves.toBe(1);
  const box = async (key: string) => {
    const found = await page.locator(`#graph g.node[data-key="${key}"] rect`).boundingBox();
    if (found === null) throw new Error(`${key} is not drawn`);
    return found;
  };
  const [reader, read] = await Promise.all([box("authorProfile/1"), box("author/1")]);
  expect(reader.x + reader.width).toBeLessThan(read.x);
  expect(await page.locator('#graph g.node[data-key="author/1"]').getAttribute("data-state")).toBe(
    "FRESH",
  );
  expect(await page.locator("#graph-note").textContent()).toBe("16 products, 12 dependencies");
  expect(problems, problems.join("\n")).toEqual([]);

  const png = await readFile(shot);
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.length).toBeGreaterThan(20_000);
  if (process.env["KCK_KEEP_SCREENSHOT"])
    await page.screenshot({ path: process.env["KCK_KEEP_SCREENSHOT"], fullPage: true });
  await page.close();
});
