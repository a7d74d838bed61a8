import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../src/db/embedded.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

// KCK as a user gets it: packed, installed from the tarball into a new project, scaffolded with
// `kck init`, a primer of the user's own added and type-checked with the user's tsc, served with
// `npx kck serve`, its SQL changed and served again (a new code version), stopped with SIGTERM.

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "..");
const quiet = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

let work: string;
let project: string;
let database: TestDatabase;
const started = new Set<number>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kck-package-"));
  project = join(work, "app");
  database = await createTestDatabase();
});

afterAll(async () => {
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGTERM");
  await until(() => [...started].every((p) => !alive(p)));
  await database?.drop();
  await rm(work, { recursive: true, force: true });
});

/** Runs a command in the project (or `cwd`), with npm's variables of this test run removed. */
async function sh(command: string, args: string[], cwd = project) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("npm_")),
  );
  delete env["DATABASE_URL"];
  return run(command, args, { cwd, env, maxBuffer: 64 * 2 ** 20 });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 100));
}

/** The pids of every live descendant of `pid`. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents)
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

/** `npx kck serve` on the test's database; resolves once it serves. */
async function serve(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("npm_")),
  );
  Object.assign(env, {
    DATABASE_URL: database.url,
    PORT: String(port),
    HOST: "127.0.0.1",
    KCK_POOL_SIZE: "2",
    KCK_WORKER_CONCURRENCY: "1",
  });
  const child = spawn("npx", ["kck", "serve"], { cwd: project, env, stdio: "pipe" });
  let output = "";
  const add = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", add);
  child.stderr?.on("data", add);
  await until(() => {
    if (child.exitCode !== null) throw new Error(`kck serve exited:\n${output}`);
    return output.includes("KCK is serving GraphQL");
  });
  for (const p of [child.pid as number, ...(await descendants(child.pid as number))])
    started.add(p);
  return { child, output: () => output };
}

/** SIGTERM to the pid the test started, then every process under it gone. */
async function stop(child: ChildProcess): Promise<void> {
  const tree = [child.pid as number, ...(await descendants(child.pid as number))];
  process.kill(child.pid as number, "SIGTERM");
  await until(() => tree.every((p) => !alive(p)));
}

async function gql(port: number, query: string): Promise<{ data?: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, unknown> };
}

const shelfPrimer = (sql: string) => `import { definePrimer, param, type Queryable } from "kck";

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
    const [row] = await ctx.sql<{ total: number }>(${JSON.stringify(sql)}, [minPages]);
    return row?.total ?? 0;
  },
});
`;

it("packs, installs into a new project, scaffolds, type-checks, serves and stops", async () => {
  const { stdout: packed } = await sh("npm", ["pack", "--pack-destination", work], repo);
  const tarball = join(work, packed.trim().split("\n").at(-1) ?? "");
  await mkdir(project);
  await sh("npm", ["init", "-y"]);
  await sh("npm", ["install", tarball, ...quiet]);

  const init = await sh("npx", ["kck", "init"]);
  expect(init.stdout).toContain("primers/greetings.ts");
  // A second init refuses, changes nothing, and says why.
  const again = await sh("npx", ["kck", "init"]).catch(
    (error: { code: number; stderr: string }) => error,
  );
  expect(again).toMatchObject({ code: 2 });
  expect((again as { stderr: string }).stderr).toContain("overwrites nothing");

  await sh("npm", ["install", ...quiet]);
  await writeFile(
    join(project, "primers", "shelf.ts"),
    shelfPrimer("select sum(pages)::int as total from shelf where pages >= $1"),
  );
  await sh("npx", ["tsc", "-p", "."]);
  // The user's tsc checks against KCK's declarations: a wrong value type is an error.
  await writeFile(
    join(project, "primers", "wrong.ts"),
    'import { definePrimer, param } from "kck";\nexport const wrong = definePrimer({ name: "wrong", params: { n: param.int() }, type: "Int", compute: () => "text" });\n',
  );
  const typeError = await sh("npx", ["tsc", "-p", "."]).catch((error: { stdout: string }) => error);
  expect((typeError as { stdout: string }).stdout).toContain("primers/wrong.ts");
  await rm(join(project, "primers", "wrong.ts"));

  const port = await freePort();
  const first = await serve(port);
  const query = "{ greeting(id: 2) { text } shelfPages(minPages: 0) }";
  expect(await gql(port, query)).toEqual({
    data: { greeting: { text: "Bonjour" }, shelfPages: 350 },
  });
  const versionOf = async () =>
    (
      (await gql(port, '{ product(key: "shelfPages/0") { codeVersion } }')).data as {
        product: { codeVersion: string };
      }
    ).product.codeVersion;
  const oldVersion = await versionOf();
  await stop(first.child);

  await writeFile(
    join(project, "primers", "shelf.ts"),
    shelfPrimer("select (sum(pages) * 2)::int as total from shelf where pages >= $1"),
  );
  const second = await serve(port);
  // Served stale at once, then refreshed in the background by the new code.
  await until(async () => {
    const { data } = (await gql(port, query)) as { data: { shelfPages: number } };
    return data.shelfPages === 700;
  });
  expect(await versionOf()).not.toBe(oldVersion);
  await stop(second.child);
  expect(second.output()).toContain('"msg":"stopping"');
}, 600_000);
