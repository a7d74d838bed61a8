import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../src/config.ts";
import { definePrimer, PublicError, param } from "../src/index.ts";
import { createLogger } from "../src/logger.ts";
import { redactSecrets } from "../src/redact.ts";
import { fixturePrimers } from "./fixtures/counting.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

/** Reads a table that does not exist: PostgreSQL's error names it. */
const secretTable = definePrimer({
  name: "secretTable",
  params: { id: param.int() },
  type: "Int",
  compute: async ({ id }, ctx) => {
    await ctx.sql("select * from internal_payroll_2026 where id = $1", [id]);
    return id;
  },
});

/** Says why it fails in words meant for the client. */
const refusing = definePrimer({
  name: "refusing",
  params: { id: param.int() },
  type: "Int",
  compute: ({ id }) => {
    throw new PublicError(`Report ${id} is not published yet; ask again tomorrow.`);
  },
});

/** Reads `secretTable`: its own failure quotes the dependency's. */
const reader = definePrimer({
  name: "reader",
  params: { id: param.int() },
  type: "Int",
  compute: ({ id }, ctx) => ctx.get(secretTable, { id }),
});

const primers = [...fixturePrimers, secretTable, refusing, reader];
let database: TestDatabase;
// The database password: the server's own, or (on a trust-auth server such as CI's, whose URL
// has none) one the server never asks for, so that the log still has a password to leak.
let password: string;
let production: TestApp;
let development: TestApp;
let cors: TestApp;
const lines: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const jobs = { worker: false };
  // The password given as a query parameter too: it must not reach the log either.
  const url = new URL(database.url);
  password = decodeURIComponent(url.password) || "never-asked-for-pw";
  url.password = "";
  url.searchParams.set("password", password);
  production = await startTestApp({
    databaseUrl: url.toString(),
    primers,
    jobs,
    auth: { production: true, adminToken: "admin-secret", readToken: "reader-secret" },
    log: createLogger({
      level: "info",
      destination: { write: (line: string) => lines.push(line) },
    }),
  });
  development = await startTestApp({ databaseUrl: database.url, primers, jobs });
  cors = await startTestApp({
    databaseUrl: database.url,
    primers,
    jobs,
    corsOrigins: ["https://app.example"],
  });
});

afterAll(async () => {
  await Promise.all([production?.stop(), development?.stop(), cors?.stop()]);
  await database?.drop();
});

const READ = { authorization: "Bearer reader-secret" };

describe("failed computes in production", () => {
  it("hides the cause (PostgreSQL's text) behind a coded message and an error id, logged in full", async () => {
    const answer = await production.gql("{ secretTable(id: 1) }", {}, READ);
    const error = answer.errors?.[0];
    expect(error?.extensions?.["code"]).toBe("COMPUTE_FAILED");
    const errorId = error?.extensions?.["errorId"];
    expect(errorId).toMatch(/^[0-9a-f]{12}$/);
    expect(error?.message).toContain(String(errorId));
    expect(JSON.stringify(answer)).not.toMatch(/internal_payroll|relation|does not exist/);
    const logged = lines.find((line) => line.includes(String(errorId)));
    expect(logged).toMatch(/internal_payroll_2026/);
    // Through a dependency, too.
    const through = await production.gql("{ reader(id: 1) }", {}, READ);
    expect(through.errors?.[0]?.extensions?.["code"]).toBe("COMPUTE_FAILED");
    expect(JSON.stringify(through)).not.toMatch(/internal_payroll|relation/);
  });

  it("hides a stored failure's cause (lastError) from all but the admin token", async () => {
    await production.gql("{ secretTable(id: 3) }", {}, READ);
    const query = '{ product(key: "secretTable/3") { lastError } }';
    const read = await production.gql<{ product: { lastError: string } }>(query, {}, READ);
    expect(read.data?.product.lastError).toMatch(/hidden in production/);
    expect(JSON.stringify(read)).not.toMatch(/internal_payroll/);
    const admin = await production.gql<{ product: { lastError: string } }>(
      query,
      {},
      {
        authorization: "Bearer admin-secret",
      },
    );
    expect(admin.data?.product.lastError).toMatch(/internal_payroll_2026/);
  });

  it("shows a PublicError's message as it is", async () => {
    const answer = await production.gql("{ refusing(id: 7) }", {}, READ);
    expect(answer.errors?.[0]?.message).toMatch(
      /Report 7 is not published yet; ask again tomorrow\./,
    );
    expect(answer.errors?.[0]?.extensions?.["code"]).toBe("COMPUTE_FAILED");
    expect(answer.errors?.[0]?.extensions?.["errorId"]).toBeUndefined();
  });

  it("gives unexpected errors an error id too", async () => {
    const answer = await production.gql("{ broken }", {}, READ);
    const errorId = answer.errors?.[0]?.extensions?.["errorId"];
    expect(errorId).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(answer)).not.toContain("internal detail");
  });

  it("still shows the cause outside production", async () => {
    const answer = await development.gql("{ secretTable(id: 2) }");
    expect(answer.errors?.[0]?.message).toMatch(/internal_payroll_2026/);
  });
});

describe("the dashboard and /metrics with a read token", () => {
  const base = () => production.url.replace(/\/graphql$/, "");
  for (const path of ["/kck/api/overview", "/kck", "/metrics"]) {
    it(`answers ${path} only with the read or admin token`, async () => {
      const none = await fetch(`${base()}${path}`);
      expect(none.status).toBe(401);
      const body = (await none.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe("UNAUTHORIZED");
      const wrong = await fetch(`${base()}${path}`, { headers: { authorization: "Bearer nope" } });
      expect(wrong.status).toBe(403);
      await wrong.text();
      for (const token of ["reader-secret", "admin-secret"]) {
        const ok = await fetch(`${base()}${path}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(ok.status).toBe(200);
        await ok.text();
      }
    });
  }

  it("leaves them open while reads are", async () => {
    const ok = await fetch(development.url.replace(/\/graphql$/, "/kck/api/overview"));
    expect(ok.status).toBe(200);
    await ok.text();
  });
});

describe("passwords in logs", () => {
  it("never logs the database password, however it was given", () => {
    expect(password.length).toBeGreaterThan(5);
    const text = lines.join("");
    expect(text).toMatch(/connecting to PostgreSQL/);
    expect(text).toMatch(/password=\*\*\*/);
    expect(text).not.toContain(password);
  });

  it("redacts every form of password", () => {
    const cases: [string, string][] = [
      ["postgres://kck:s3cret@db:5432/app", "postgres://kck:***@db:5432/app"],
      [
        "postgresql://db/app?user=kck&password=s3cret&ssl=1",
        "postgresql://db/app?user=kck&password=***&ssl=1",
      ],
      ["kck:s3cret@db:5432/app", "kck:***@db:5432/app"],
      ["kck:p@ss@db/app", "kck:***@db/app"],
      ["host=db user=kck password=s3cret dbname=app", "host=db user=kck password=*** dbname=app"],
      ["host=db password='a b' user=kck", "host=db password=*** user=kck"],
      ["postgres://db/app?sslpassword=s3cret", "postgres://db/app?sslpassword=***"],
      ["postgres://kck@db/app", "postgres://kck@db/app"],
    ];
    for (const [given, shown] of cases) expect(redactSecrets(given)).toBe(shown);
    const logged: string[] = [];
    const log = createLogger({ destination: { write: (line: string) => logged.push(line) } });
    log.warn({ database: "kck:s3cret@db/app" }, "connecting to postgres://a:s3cret@b/c");
    log.error(
      { err: Object.assign(new Error("bad host=db password=s3cret"), { input: "u:s3cret@h" }) },
      "x",
    );
    expect(logged.join("")).not.toContain("s3cret");
  });
});

describe("CORS and GraphiQL", () => {
  const preflight = (app: TestApp, origin: string) =>
    fetch(app.url, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
      },
    });

  it("sends no CORS headers to other origins unless configured", async () => {
    for (const app of [development, cors]) {
      const response = await fetch(app.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: "https://evil.example",
          cookie: "s=1",
        },
        body: JSON.stringify({ query: "{ square(n: 2) { square } }" }),
      });
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      await response.text();
      const pre = await preflight(app, "https://evil.example");
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
      await pre.text();
    }
  });

  it("allows the configured origins, without credentials", async () => {
    const pre = await preflight(cors, "https://app.example");
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
    await pre.text();
    expect(
      readConfig({ KCK_CORS_ORIGINS: "https://a.example, https://b.example/" }).corsOrigins,
    ).toEqual(["https://a.example", "https://b.example"]);
    expect(() => readConfig({ KCK_CORS_ORIGINS: "evil" })).toThrow(/KCK_CORS_ORIGINS/);
  });

  it("serves GraphiQL outside production only, unless asked for", async () => {
    const page = (app: TestApp) =>
      fetch(app.url, { headers: { accept: "text/html" } }).then(async (r) => ({
        status: r.status,
        html: (await r.text()).toLowerCase().includes("graphiql"),
      }));
    expect((await page(development)).html).toBe(true);
    expect((await page(production)).html).toBe(false);
    expect(readConfig({ NODE_ENV: "production" }).graphiql).toBe(false);
    expect(readConfig({ NODE_ENV: "production", KCK_GRAPHIQL: "1" }).graphiql).toBe(true);
    expect(readConfig({}).graphiql).toBe(true);
    expect(readConfig({ NODE_ENV: "production" }).maskErrors).toBe(true);
  });
});
