import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectClient } from "../src/db/db.ts";
import { freePort } from "../src/db/embedded.ts";
import { KCK_BIN, ROOT, startCli } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { collect, wsClient } from "./helpers/subscribe.ts";

// `kck dev` on a project of its own (primers that import "kck", a helper module outside the
// primers folder, the project's tsc), changed while it serves: its SQL, the helper, a primer
// added, one removed under a subscription, a type error. One process throughout.

let database: TestDatabase;
let project: string;
let dev: ChildProcess | undefined;
let output = "";

beforeAll(async () => {
  database = await createTestDatabase();
  project = await mkdtemp(join(tmpdir(), "kck-dev-"));
  // "kck" is this repository (its source, through the kck-source condition the bin adds), and
  // tsc is the repository's, as an installed package and the project's own TypeScript would be.
  await mkdir(join(project, "node_modules", ".bin"), { recursive: true });
  await symlink(ROOT, join(project, "node_modules", "kck"));
  await symlink(join(ROOT, "node_modules", "@types"), join(project, "node_modules", "@types"));
  await symlink(
    join(ROOT, "node_modules", ".bin", "tsc"),
    join(project, "node_modules", ".bin", "tsc"),
  );
  await writeFile(join(project, "package.json"), '{ "name": "dev-test", "type": "module" }\n');
  await writeFile(
    join(project, "tsconfig.json"),
    JSON.stringify({ extends: join(ROOT, "tsconfig.json"), include: ["primers", "lib"] }),
  );
  await mkdir(join(project, "primers"));
  await mkdir(join(project, "lib"));
  await writeFile(join(project, "lib", "factor.ts"), factor(1));
  await writeFile(join(project, "primers", "shelf.ts"), shelf("sum(pages)"));
});

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((done) => dev?.once("exit", done));
    dev.kill("SIGTERM");
    await exited;
  }
  await database?.drop();
  await rm(project, { recursive: true, force: true });
});

const factor = (n: number) => `/** What the shelf's pages are multiplied by. */
export const FACTOR = ${n};
`;

const shelf = (total: string) => `import { definePrimer, param, type Queryable } from "kck";
import { FACTOR } from "../lib/factor.ts";

export async function setup(db: Queryable): Promise<void> {
  await db.query("create table if not exists shelf (id int primary key, pages int not null)");
  await db.query("insert into shelf values (1, 100), (2, 250) on conflict do nothing");
}

/** Pages on the shelf, at least minPages each. */
export const shelfPages = definePrimer({
  name: "shelfPages",
  params: { minPages: param.int() },
  type: "Int",
  async compute({ minPages }, ctx) {
    const sql = \`select (${total} * \${FACTOR})::int as total from shelf where pages >= $1\`;
    const [row] = await ctx.sql<{ total: number }>(sql, [minPages]);
    return row?.total ?? 0;
  },
});
`;

const answer = `import { definePrimer } from "kck";

export const answer = definePrimer({
  name: "answer",
  params: {},
  type: "Int",
  compute: () => 42,
});
`;

// A compute that waits for an advisory lock the test holds: a request that stays in flight.
const gated = (times: number) => `import { definePrimer, param } from "kck";

export const gated = definePrimer({
  name: "gated",
  params: { n: param.int() },
  type: "Int",
  async compute({ n }, ctx) {
    await ctx.sql("select pg_advisory_xact_lock_shared(4242)");
    return n * ${times};
  },
});
`;

// The compute returns a string where the type says Int: a type error (and a value the check
// would refuse), while the module loads and the rest serves.
const mistyped = `import { definePrimer, param } from "kck";

export const mistyped = definePrimer({
  name: "mistyped",
  params: { n: param.int() },
  type: "Int",
  compute: ({ n }) => \`n = \${n}\`,
});
`;

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (dev?.exitCode !== null)
      throw new Error(`kck dev exited while waiting for ${what}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}:\n${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let url = "";

async function gql(query: string): Promise<{ data?: Record<string, unknown>; errors?: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
}

/** Writes a file, then waits until `query` answers `expected`; the milliseconds in between. */
async function saveAndWait(
  file: string,
  text: string,
  query: string,
  expected: unknown,
): Promise<number> {
  const saved = performance.now();
  await writeFile(join(project, file), text);
  await until(
    async () => {
      const { data } = await gql(query);
      return JSON.stringify(data) === JSON.stringify(expected);
    },
    `${query} to answer ${JSON.stringify(expected)}`,
  );
  return Math.round(performance.now() - saved);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The pids of every live descendant of `pid`, with their command lines. */
async function descendants(pid: number): Promise<{ pid: number; command: string }[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const found: { pid: number; command: string }[] = [];
  const walk = async (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      const command = await readFile(`/proc/${child}/cmdline`, "utf8").catch(() => "");
      found.push({ pid: child, command: command.replaceAll("\0", " ") });
      await walk(child);
    }
  };
  await walk(pid);
  return found;
}

it("swaps saved changes in, in one process, and keeps serving through type errors", async () => {
  const port = await freePort();
  dev = startCli(["dev", "--port", String(port), "--host", "127.0.0.1"], {
    cwd: project,
    env: {
      DATABASE_URL: database.url,
      KCK_POOL_SIZE: "2",
      KCK_WORKER_CONCURRENCY: "1",
      LOG_LEVEL: "warn",
    },
  });
  const child = dev;
  const add = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", add);
  child.stderr?.on("data", add);
  await until(() => output.includes("KCK is serving GraphQL and GraphiQL at"), "the start");
  url = /serving GraphQL and GraphiQL at (\S+)/.exec(output)?.[1] ?? "";
  const schemaFile = join(project, "schema", "schema.graphql");
  expect(await readFile(schemaFile, "utf8")).toContain("shelfPages(minPages: Int!): Int");

  const query = "{ shelfPages(minPages: 0) }";
  expect(await gql(query)).toEqual({ data: { shelfPages: 350 } });

  // The primer's SQL: its products of the old code are not served (dev expires them).
  const sqlMs = await saveAndWait("primers/shelf.ts", shelf("(sum(pages) + 1000)"), query, {
    shelfPages: 1350,
  });
  // A constant in a module the primer imports, outside the primers folder: the module runs
  // again, and the primer's code version covers it.
  const siblingMs = await saveAndWait("lib/factor.ts", factor(2), query, { shelfPages: 2700 });

  // A request in flight during a reload finishes on the old app, with the old code's value;
  // that value is then not served as fresh by the new code.
  await saveAndWait("primers/gated.ts", gated(1), "{ gated(n: 0) }", { gated: 0 });
  const lock = await connectClient(database.url, "dev-loop-test");
  try {
    await lock.query("select pg_advisory_lock(4242)");
    const inFlight = gql("{ gated(n: 1) }");
    await until(async () => {
      const { rows } = await lock.query(
        "select 1 from pg_locks where locktype = 'advisory' and objid = 4242 and not granted",
      );
      return rows.length > 0;
    }, "the compute to wait for the lock");
    const reloads = output.match(/ms after the change/g)?.length ?? 0;
    await writeFile(join(project, "primers", "gated.ts"), gated(2));
    await until(
      () => (output.match(/ms after the change/g)?.length ?? 0) > reloads,
      "the reload to swap the new app in",
    );
    expect(await gql(query)).toEqual({ data: { shelfPages: 2700 } });
    await lock.query("select pg_advisory_unlock(4242)");
    expect(await inFlight).toEqual({ data: { gated: 1 } });
    await until(
      async () => JSON.stringify((await gql("{ gated(n: 1) }")).data) === '{"gated":2}',
      "the new code to answer for the key the old app computed",
    );
  } finally {
    await lock.end();
  }

  // A new primer: a new field, and the printed schema rewritten.
  const addMs = await saveAndWait("primers/answer.ts", answer, "{ answer }", { answer: 42 });
  await until(
    async () => (await readFile(schemaFile, "utf8")).includes("answer: Int"),
    "the schema file to show the new field",
  );
  console.log(
    `kck dev, from save to the changed field answering: SQL ${sqlMs} ms, sibling module ${siblingMs} ms, new primer ${addMs} ms`,
  );

  // A subscription to a field that goes away ends with a message; the others move over.
  const client = wsClient(url);
  try {
    const gone = collect<{ value: number }>(client, "subscription { answer { value } }", "answer");
    const kept = collect<{ value: number }>(
      client,
      "subscription { shelfPages(minPages: 0) { value } }",
      "shelfPages",
    );
    await gone.until((values) => values.length === 1);
    await kept.until((values) => values.length === 1);
    expect(gone.values).toEqual([{ value: 42 }]);
    expect(kept.values).toEqual([{ value: 2700 }]);

    await rm(join(project, "primers", "answer.ts"));
    await until(() => gone.completed, "the subscription to the removed field to end");
    expect(JSON.stringify(gone.errors)).toMatch(
      /This subscription ended: kck dev reloaded the primers.*Cannot query field \\"answer\\"/,
    );
    expect(gone.errors).toMatchObject([{ extensions: { code: "SCHEMA_CHANGED" } }]);
    expect(await gql("{ answer }")).toMatchObject({
      errors: [{ message: 'Cannot query field "answer" on type "Query".' }],
    });
    // The other one was started again on the new app (it gets the value again), and it
    // follows the next change of code.
    await kept.until((values) => values.length === 2);
    await writeFile(join(project, "lib", "factor.ts"), factor(3));
    await kept.until((values) => values.at(-1)?.value === 4050);
    expect(kept.completed).toBe(false);
    expect(kept.errors).toEqual([]);
    await until(
      async () => !(await readFile(schemaFile, "utf8")).includes("answer"),
      "the schema file to lose the removed field",
    );
  } finally {
    await client.dispose();
  }

  // A type error is printed; the server still answers (the module loads: types are stripped).
  const before = output.length;
  await writeFile(join(project, "primers", "mistyped.ts"), mistyped);
  await until(
    () => /type errors \(still serving\):[\s\S]*primers\/mistyped\.ts/.test(output.slice(before)),
    "the type error to be printed",
  );
  expect(await gql(query)).toEqual({ data: { shelfPages: 4050 } });
  expect(await gql("{ mistyped(n: 1) }")).toMatchObject({
    data: { mistyped: null },
    errors: [{ extensions: { code: "COMPUTE_FAILED" } }],
  });

  // One process served all along: no gateway was started beside it (tsc and tsx's esbuild
  // service may be its children, no second `kck`).
  const pid = child.pid as number;
  const children = await descendants(pid);
  expect(children.filter(({ command }) => command.includes(KCK_BIN))).toEqual([]);
  expect(output.match(/changed: reloading/g)?.length).toBeGreaterThanOrEqual(8);
  console.log(output.match(/^kck dev: serving .*$/gm)?.join("\n"));

  const exited = new Promise<number | null>((done) => child.once("exit", done));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  const deadline = Date.now() + 10_000;
  while (children.some(({ pid }) => alive(pid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(children.filter(({ pid }) => alive(pid))).toEqual([]);
  const refused = await fetch(url).then(
    () => false,
    () => true,
  );
  expect(refused).toBe(true);
}, 180_000);
