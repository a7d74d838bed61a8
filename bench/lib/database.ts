import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectClient, createDb, type Db, quoteIdent } from "../../src/db/db.ts";
import { startEmbedded } from "../../src/db/embedded.ts";
import { silentLogger } from "../../src/logger.ts";
import { migrate } from "../../src/sql/migrate.ts";

/** A database made for one scenario, migrated, with a pool of the bench's own. */
export interface BenchDatabase {
  readonly url: string;
  /** The parent's pool on it (seeding, checks). */
  readonly db: Db;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** The PostgreSQL server the bench runs on. */
export interface BenchServer {
  /** Where it is: "embedded" or the redacted DATABASE_URL host. */
  readonly where: string;
  /** Creates a fresh database on it, with KCK's tables already migrated. */
  createDatabase(label: string): Promise<BenchDatabase>;
  /** Stops the embedded server and removes its data (a DATABASE_URL server stays). */
  close(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Opens the bench's server: `databaseUrl` when given (the bench only creates and drops its own
 * databases there), otherwise an embedded PostgreSQL under a temporary folder, removed at the
 * end.
 */
export async function openBenchServer(databaseUrl: string | undefined): Promise<BenchServer> {
  let serverUrl = databaseUrl;
  let cleanup = async (): Promise<void> => {};
  if (serverUrl === undefined) {
    const dataDir = await mkdtemp(join(tmpdir(), "kck-bench-"));
    const embedded = await startEmbedded({ dataDir, log: silentLogger() });
    serverUrl = embedded.url;
    cleanup = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const admin = serverUrl;
  const run = async (sql: string): Promise<void> => {
    const client = await connectClient(admin, "kck-bench");
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    where:
      databaseUrl === undefined
        ? "embedded PostgreSQL (temporary folder)"
        : `DATABASE_URL (${new URL(databaseUrl).host})`,
    async createDatabase(label) {
      const name = `kck_bench_${label.replaceAll(/[^a-z0-9]/g, "_")}_${randomBytes(3).toString("hex")}`;
      await run(`create database ${quoteIdent(name)}`);
      const url = withDatabase(admin, name);
      const db = createDb({ url, poolSize: 4, sessionPoolSize: 1 });
      await migrate(db);
      return {
        url,
        db,
        async drop() {
          await db.close();
          await run(`drop database if exists ${quoteIdent(name)} with (force)`);
        },
      };
    },
    close: () => cleanup(),
  };
}
