import { access } from "node:fs/promises";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

// GraphiQL must work on a machine that cannot reach any CDN: every request that leaves the
// gateway is blocked, and the editor must still render and run a query.
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"];

let database: TestDatabase;
let kck: TestApp;
let browser: Browser | undefined;

beforeAll(async () => {
  await access(CHROMIUM).catch(() => {
    throw new Error(`The GraphiQL test drives headless Chromium at ${CHROMIUM}, which is missing.`);
  });
  database = await createTestDatabase();
  kck = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers, poolSize: 2 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await kck?.stop();
  await database?.drop();
});

it("renders GraphiQL and runs a query with every non-local request blocked", async () => {
  const page = await (browser as Browser).newPage();
  const origin = new URL(kck.url).origin;
  const blocked: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("blob:") || url.startsWith("data:"))
      return route.continue();
    blocked.push(url);
    return route.abort();
  });
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  const response = await page.goto(kck.url);
  expect(response?.status()).toBe(200);
  await page.waitForSelector(".graphiql-container .monaco-editor", { state: "visible" });
  expect(await page.title()).not.toContain("__TITLE__");
  // Run a query from the editor: the result pane shows the product.
  const editor = page.locator(".graphiql-query-editor .monaco-editor").first();
  await editor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("{ square(n: 7) { square }");
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => (document.body.textContent ?? "").includes("49"));
  expect(blocked).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
});
