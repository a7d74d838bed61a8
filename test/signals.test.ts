import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../src/db/embedded.ts";

// `npm start` as a process manager runs it: SIGTERM to npm's pid, or Ctrl-C (SIGINT to the
// terminal's process group), must stop the gateway and its embedded PostgreSQL and leave no
// process behind. The embedded server runs on a data folder of this test's own.

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "kck-signals-"));
});

/** Every process a test started: stopped after the tests if one failed before stopping them. */
const started = new Set<number>();

afterAll(async () => {
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGTERM");
  await until(() => [...started].every((p) => !alive(p)));
  await rm(dataDir, { recursive: true, force: true });
});

/** The pids of every live descendant of `pid`, read from /proc. */
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
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

const portFree = (port: number): Promise<boolean> =>
  new Promise((done) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      done(false);
    });
    socket.once("error", () => done(true));
  });

/** Starts `npm start` in its own process group and waits until it serves. */
async function npmStart(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: "127.0.0.1" };
  delete env["DATABASE_URL"];
  env["KCK_DATA_DIR"] = dataDir;
  env["KCK_WORKER_CONCURRENCY"] = "1";
  env["KCK_POOL_SIZE"] = "2";
  const child = spawn("npm", ["start"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  await new Promise<void>((done, fail) => {
    const check = setInterval(() => {
      if (output.includes("KCK is serving GraphQL")) {
        clearInterval(check);
        done();
      } else if (child.exitCode !== null) {
        clearInterval(check);
        fail(new Error(`npm start exited ${child.exitCode}:\n${output}`));
      }
    }, 100);
  });
  for (const p of [child.pid as number, ...(await descendants(child.pid as number))])
    started.add(p);
  return { child, output: () => output };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((done) => child.once("exit", (code) => done(code)));

async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 100));
}

it("SIGTERM to npm start's pid stops the gateway and the embedded PostgreSQL", async () => {
  const port = await freePort();
  const { child, output } = await npmStart(port);
  const pid = child.pid as number;
  const tree = await descendants(pid);
  // npm runs one node (no sh, no tsx wrapper process), which runs PostgreSQL.
  expect(tree.length).toBeGreaterThan(1);
  process.kill(pid, "SIGTERM");
  expect(await exited(child)).toBe(0);
  await until(() => tree.every((p) => !alive(p)));
  expect(await portFree(port)).toBe(true);
  expect(output()).toContain('"msg":"stopping"');
  expect(output()).not.toContain("again while stopping");
});

it("Ctrl-C reaches the gateway alone, which drains and stops PostgreSQL itself", async () => {
  const port = await freePort();
  const { child, output } = await npmStart(port);
  const pid = child.pid as number;
  const tree = await descendants(pid);
  const postmaster = Number(
    (await readFile(join(dataDir, "pg", "postmaster.pid"), "utf8")).split("\n")[0],
  );
  expect(tree).toContain(postmaster);
  // PostgreSQL runs in a process group of its own, out of the terminal's.
  const stat = await readFile(`/proc/${postmaster}/stat`, "utf8");
  const group = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  expect(group).toBe(postmaster);
  expect(group).not.toBe(pid);
  // The terminal's SIGINT goes to its foreground process group: npm's, here.
  process.kill(-pid, "SIGINT");
  expect(await exited(child)).toBe(0);
  await until(() => tree.every((p) => !alive(p)));
  expect(await portFree(port)).toBe(true);
  // PostgreSQL was not in the group: no "terminating connection" from an early fast shutdown,
  // and the gateway did not take npm's forwarded copy of the signal as a second one.
  expect(output()).not.toContain("again while stopping");
  expect(output()).not.toContain("could not stop cleanly");
});
