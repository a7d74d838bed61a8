import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineObject, definePrimer, param } from "../src/index.ts";
import { pruneSourceTriggers } from "../src/jobs/prune-triggers.ts";
import { type Logger, silentLogger } from "../src/logger.ts";
import { owTitles, setup } from "./fixtures/ownership/a/primers.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { runCli } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

/** App B's primers: another on the same table, and one on a table app A does not read. */
const owCount = definePrimer({
  name: "owCount",
  params: { authorId: param.int() },
  type: "Int",
  sources: [{ table: "ow_books", params: { authorId: "author_id" } }],
  async compute({ authorId }, ctx) {
    const [row] = await ctx.sql<{ n: number }>(
      "select count(*)::int as n from ow_books where author_id = $1",
      [authorId],
    );
    return row?.n ?? 0;
  },
});
const owGenres = definePrimer({
  name: "owGenres",
  params: {},
  type: "Int",
  sources: [{ table: "ow_genres" }],
  async compute(_params, ctx) {
    const [row] = await ctx.sql<{ n: number }>("select count(*)::int as n from ow_genres");
    return row?.n ?? 0;
  },
});

let database: TestDatabase;
let a: TestApp;
let b: TestApp | undefined;
const small = { poolSize: 2, jobs: { concurrency: 1 } } as const;

beforeAll(async () => {
  database = await createTestDatabase();
  a = await startTestApp({
    databaseUrl: database.url,
    primers: [owTitles],
    setups: [setup],
    ...small,
  });
  b = await startTestApp({
    databaseUrl: database.url,
    primers: [owCount, owGenres],
    setups: [setup],
    log: recordingLogger(bErrors, "error"),
    ...small,
  });
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await database?.drop();
});

const sql = (text: string, values?: unknown[]) => a.app.engine.db.query(text, values);
const value = async (key: string) =>
  (await sql("select value from kck.products where key = $1", [key])).rows[0]?.["value"];

/** Every KCK source trigger and trigger function, and every declaration row. */
const triggerState = async () => ({
  functions: (
    await sql(
      `select proname, obj_description(p.oid, 'pg_proc') as comment from pg_proc p
       where proname like 'src\\_%' order by 1`,
    )
  ).rows,
  triggers: (await sql("select tgname from pg_trigger where tgname like 'kck_src_%' order by 1"))
    .rows,
  declarations: (await sql("select * from kck.source_declarations order by 1, 2")).rows,
});

/** A logger that keeps what it is told at `level`. */
function recordingLogger(lines: unknown[], level: "info" | "error" = "info"): Logger {
  const log = silentLogger();
  return Object.assign(Object.create(log), {
    [level]: (fields: unknown, message?: string) => lines.push({ fields, message }),
    child: () => recordingLogger(lines, level),
  }) as Logger;
}
const bErrors: unknown[] = [];
const eventually = <T>(read: () => Promise<T>) =>
  expect.poll(read, { timeout: 15_000, interval: 20 });

describe("source triggers owned by the primers that declare them", () => {
  it("keeps both apps refreshing when they declare different primers on one database", async () => {
    expect(await a.app.engine.get(owTitles, { authorId: 1 })).toEqual([]);
    expect(await b?.app.engine.get(owCount, { authorId: 1 })).toBe(0);
    expect(await b?.app.engine.get(owGenres, {})).toBe(0);
    await sql("insert into ow_books values (1, 'First')");
    await sql("insert into ow_genres values ('poetry')");
    await eventually(() => value("owTitles/1")).toEqual(["First"]);
    await eventually(() => value("owCount/1")).toBe(1);
    await eventually(() => value("owGenres")).toBe(1);
    // Both apps' workers share the queue: the refresh jobs of one app's primers that the other
    // app's workers take are handed back, never failed there.
    for (let n = 2; n <= 6; n++) {
      expect(await a.app.engine.get(owTitles, { authorId: n })).toEqual([]);
      await sql("insert into ow_books values ($1, 'More')", [n]);
      await eventually(() => value(`owTitles/${n}`)).toEqual(["More"]);
    }
    expect(bErrors).toEqual([]);
  });

  it("changes nothing in the database when a start fails", async () => {
    const before = await triggerState();
    // A source table that does not exist: found before any trigger is installed.
    const missing = definePrimer({
      name: "owMissing",
      params: { id: param.int() },
      type: "Int",
      sources: [{ table: "ow_nowhere", params: { id: "id" } }],
      compute: () => 0,
    });
    await expect(
      startTestApp({ databaseUrl: database.url, primers: [owGenres, missing], ...small }),
    ).rejects.toThrow('declares source table "ow_nowhere", which does not exist');
    // A schema that cannot be built: an object type named like the update type KCK generates
    // for another primer's subscription. Each primer has a valid source.
    const Clash = defineObject<{ n: number }>("OwClashUpdate", (t) => ({ n: t.exposeInt("n") }));
    const clashes = [
      definePrimer({
        name: "owClash",
        params: {},
        type: "Int",
        sources: [{ table: "ow_genres" }],
        compute: () => 0,
      }),
      definePrimer({
        name: "owClashing",
        params: {},
        type: Clash,
        sources: [{ table: "ow_books" }],
        compute: () => ({ n: 0 }),
      }),
    ];
    await expect(
      startTestApp({ databaseUrl: database.url, primers: clashes, ...small }),
    ).rejects.toThrow(/OwClashUpdate/);
    expect(await triggerState()).toEqual(before);
    await sql("insert into ow_books values (1, 'Second')");
    await eventually(() => value("owTitles/1")).toEqual(["First", "Second"]);
    await eventually(() => value("owCount/1")).toBe(2);
  });

  it("prunes only what no live process and no given primer declares, and logs it", async () => {
    const lines: unknown[] = [];
    // Both apps live: nothing goes, though the pruning side declares only app A's primer.
    expect(await pruneSourceTriggers(a.app.engine.db, [owTitles], recordingLogger(lines))).toEqual(
      [],
    );
    await b?.stop();
    b = undefined;
    const before = await triggerState();
    expect(before.functions).toHaveLength(3);
    // App B is gone: its two triggers are declared by nobody; app A's stays.
    const result = await runCli(["migrate", "--prune"], {
      env: {
        DATABASE_URL: database.url,
        KCK_PRIMERS_DIR: "test/fixtures/ownership/a",
        LOG_LEVEL: "info",
      },
    });
    expect(result.code).toBe(0);
    const dropped = result.stdout.split("\n").filter((line) => line.startsWith("dropped"));
    expect(dropped).toHaveLength(2);
    expect(dropped.join("\n")).toContain("primer owCount on ow_books");
    expect(dropped.join("\n")).toContain("primer owGenres on ow_genres");
    expect(result.stderr).toContain("dropped a source trigger nobody declares");
    const after = await triggerState();
    expect(after.functions).toHaveLength(1);
    expect(after.triggers).toHaveLength(4);
    expect(String(after.functions[0]?.["comment"])).toContain("primer owTitles on ow_books");
    // App A still refreshes; a second prune has nothing left to do.
    await sql("insert into ow_books values (1, 'Third')");
    await eventually(() => value("owTitles/1")).toEqual(["First", "Second", "Third"]);
    expect(await pruneSourceTriggers(a.app.engine.db, [], recordingLogger(lines))).toEqual([]);
  });
});
