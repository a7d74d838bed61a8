import type { Logger } from "../logger.ts";
import { createDb, type Db, redactUrl } from "./db.ts";
import { startEmbedded } from "./embedded.ts";

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** A PostgreSQL connection string; absent: the embedded server under `dataDir`. */
  databaseUrl?: string | undefined;
  /** Where the embedded server keeps its data. @default ".kck" */
  dataDir?: string;
  /** Connections in each of the three pools (queries, compute sessions, compute statements). @default 10 */
  poolSize?: number;
  log: Logger;
}

/** An open database and how to close it (and the embedded server, if one was started). */
export interface OpenDatabase {
  readonly db: Db;
  close(): Promise<void>;
}

/**
 * Opens KCK's database: the one at `databaseUrl`, or else the embedded server under `dataDir`
 * (started, or joined when another KCK process already runs it).
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenDatabase> {
  const { log } = options;
  let url = options.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (url === undefined) {
    const embedded = await startEmbedded({ dataDir: options.dataDir ?? ".kck", log });
    stopEmbedded = embedded.stop;
    url = embedded.url;
  }
  log.info({ database: redactUrl(url) }, "connecting to PostgreSQL");
  const poolSize = options.poolSize ?? 10;
  const db = createDb({
    url,
    poolSize,
    sessionPoolSize: poolSize,
    onError: (error) => log.warn({ err: error }, "an idle database connection failed"),
  });
  return {
    db,
    async close() {
      await db.close();
      await stopEmbedded?.();
    },
  };
}
