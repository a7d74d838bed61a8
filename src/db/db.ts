import pg from "pg";
import { redactSecrets } from "../redact.ts";
import { runCancellable } from "./cancellable-statement.ts";

/** Something that runs one parameterised SQL statement. */
export interface Queryable {
  /**
   * Runs `text` with `values`. With a `name`, the statement is prepared once per connection
   * and reused by name after that (a name must always go with the same text).
   */
  query<R extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    name?: string,
  ): Promise<QueryResult<R>>;
}

/** The rows of a statement and how many it touched. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** A connection held for a while (a compute session); released when done. */
export interface Session extends Queryable {
  release(error?: Error): void;
}

/** KCK's whole view of PostgreSQL. Only the files under `src/db/` import `pg`. */
export interface Db extends Queryable {
  /**
   * Runs `fn` in one transaction on one connection checked out for it, commits, and rolls back
   * if it throws; the connection is destroyed rather than reused when it broke. KCK's one
   * transaction helper.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Checks out a connection from the session pool, which is kept apart from the query pool so
   * that long-held compute sessions can never starve the short queries they wait on.
   */
  session(): Promise<Session>;
  /**
   * A session when the session pool has an idle connection now, else undefined: for work that
   * may use one but must neither wait for one nor open a new one.
   */
  idleSession(): Promise<Session> | undefined;
  /**
   * Runs one statement of a compute on a pool of its own (so that slow compute SQL never holds
   * the connections reads need), cancelled in PostgreSQL when `signal` aborts; settles only once
   * the server has stopped it.
   */
  computeQuery<R extends object = Record<string, unknown>>(
    text: string,
    values: readonly unknown[] | undefined,
    signal: AbortSignal,
  ): Promise<QueryResult<R>>;
  /** How many statements this Db has sent, for tests and metrics. */
  readonly stats: { statements: number };
  /** The connection string, for components that need a connection of their own. */
  readonly url: string;
  /** Closes every pool. */
  close(): Promise<void>;
}

/** Where {@link Db.transaction} runs. */
export interface TransactionOptions {
  /**
   * The pool its connection comes from. "session" for a transaction that may wait for a key's
   * compute lock (an augment): a compute may hold that lock while its own statements use the
   * query pool, and waiting on the query pool could take every one of its connections and
   * leave that compute, and so the lock, stuck.
   * @default "query"
   */
  pool?: "query" | "session";
}

/** Options for {@link createDb}. */
export interface DbOptions {
  /** A PostgreSQL connection string. */
  url: string;
  /**
   * Connections for short queries.
   * @default 10
   */
  poolSize?: number;
  /**
   * Connections for compute sessions (one per top-level compute in flight).
   * @default 10
   */
  sessionPoolSize?: number;
  /**
   * Connections for the statements computes run (`ctx.sql`).
   * @default poolSize
   */
  computePoolSize?: number;
  /** Sent to the server as application_name. @default "kck" */
  applicationName?: string;
  /** Called when an idle connection fails (the server restarted, say). */
  onError?: (error: Error) => void;
}

// bigint (int8) as a JS number: versions and counts stay far below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Opens the two connection pools KCK uses against one database. */
export function createDb(options: DbOptions): Db {
  const common = {
    connectionString: options.url,
    application_name: options.applicationName ?? "kck",
    types,
  };
  const pool = new pg.Pool({ ...common, max: options.poolSize ?? 10 });
  const sessions = new pg.Pool({ ...common, max: options.sessionPoolSize ?? 10 });
  const computes = new pg.Pool({
    ...common,
    max: options.computePoolSize ?? options.poolSize ?? 10,
  });
  const onError = options.onError ?? (() => {});
  pool.on("error", onError);
  sessions.on("error", onError);
  computes.on("error", onError);
  const stats = { statements: 0 };

  const counted = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R extends object>(text: string, values?: readonly unknown[], name?: string) {
      stats.statements++;
      const params = values as unknown[] | undefined;
      const result =
        name === undefined
          ? await q.query<R>(text, params)
          : await q.query<R>({ name, text, ...(params ? { values: params } : {}) });
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
  });
  const direct = counted(pool);
  let claimed = 0;
  // A connection checked out of `from`, released with the error that broke it, if any.
  const checkout = async (from: pg.Pool): Promise<Session> => {
    const client = await from.connect();
    const lost = watch(client);
    const q = counted(client);
    // A statement that failed because the connection is gone (the server's own message may
    // come before the socket closes) means the connection must not go back to the pool.
    let failed: Error | undefined;
    const query = <R extends object>(text: string, values?: readonly unknown[], name?: string) =>
      q.query<R>(text, values, name).catch((error: unknown) => {
        if (isUnavailable(error)) failed ??= error as Error;
        throw error;
      });
    return { query, release: (error?: Error) => client.release(error ?? lost() ?? failed) };
  };
  const session = () => checkout(sessions);

  return {
    url: options.url,
    stats,
    query: direct.query,
    async transaction(fn, where = {}) {
      const tx = await checkout(where.pool === "session" ? sessions : pool);
      try {
        await tx.query("begin");
        const result = await fn(tx);
        await tx.query("commit");
        tx.release();
        return result;
      } catch (error) {
        // A failed rollback means the connection is broken: destroy it rather than reuse it.
        await tx.query("rollback").then(
          () => tx.release(),
          (rollbackError: Error) => tx.release(rollbackError),
        );
        throw error;
      }
    },
    session,
    async computeQuery<R extends object>(
      text: string,
      values: readonly unknown[] | undefined,
      signal: AbortSignal,
    ) {
      stats.statements++;
      const target = {
        pool: computes,
        connect: () => connectClient(options.url, "kck-cancel"),
      };
      const result = await runCancellable<R & pg.QueryResultRow>(
        target,
        text,
        values as unknown[] | undefined,
        signal,
      );
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    idleSession() {
      // Claims made in the same tick all see the same idle count: past it, the pool would
      // open new connections (or wait for one), which an idle session must never do.
      if (sessions.idleCount <= claimed) return undefined;
      claimed++;
      return session().finally(() => {
        claimed--;
      });
    },
    async close() {
      if (pool.ending) return;
      await Promise.all([endPool(pool), endPool(sessions), endPool(computes)]);
    },
  };
}

/**
 * Ends a pool and waits for its connections to close: pg-pool's `end()` resolves once it has
 * sent each idle connection its terminate message, and a server stopped right after (the
 * embedded one, at a stop) would end them first, each with an error. Bounded: a connection
 * that fails as it opens leaves the pool without a `remove` event.
 */
async function endPool(target: pg.Pool): Promise<void> {
  let open = target.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    target.on("remove", () => {
      if (--open <= 0) resolve();
    });
    setTimeout(resolve, 2000).unref();
  });
  await target.end();
  await closed;
}

/**
 * Listens for a checked-out client's connection errors until it is released, and returns what
 * to release it with. The pool listens only while a client is idle in it: a connection the
 * server ends while a caller holds it between statements (a compute session while the compute
 * runs, during a PostgreSQL restart) would otherwise throw out of the process. The next
 * statement fails on its own; the release then destroys the connection.
 */
function watch(client: pg.PoolClient): () => Error | undefined {
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost ??= error;
  };
  client.on("error", onError);
  return () => {
    client.off("error", onError);
    return lost;
  };
}

export { quoteIdent } from "./quote-ident.ts";

/**
 * Replaces the password in a connection string so it can be logged: in a URL's user info
 * (with a scheme or without), a `?password=` parameter, or a key=value connection string.
 */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

/** Opens one connection of its own (LISTEN, migrations, database creation). */
export async function connectClient(url: string, applicationName = "kck"): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName, types });
  await client.connect();
  return client;
}

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
]);

/** Whether an error means the database cannot be reached now (down, restarting, connection lost). */
export function isUnavailable(error: unknown): boolean {
  for (
    let e: unknown = error;
    e instanceof Error;
    e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? e.cause
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNAVAILABLE_CODES.has(code)) return true;
    if (
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
        e.message,
      )
    )
      return true;
    if (e instanceof AggregateError && e.errors.some(isUnavailable)) return true;
  }
  return false;
}
