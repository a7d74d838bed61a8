import type { Db, QueryResult } from "../db/db.ts";

/**
 * The SQL statements one compute runs (`ctx.sql`), each cancelled in PostgreSQL when the
 * compute is abandoned (timeout or shutdown). `settled()` waits until none of them still runs:
 * the compute keeps its key's lock until then, so a retry of the key never overlaps the SQL of
 * the attempt it replaces.
 */
export class ComputeStatements {
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly db: Db,
    private readonly signal: AbortSignal,
  ) {}

  /** Runs one statement for the compute. */
  run<R extends object>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>> {
    const statement = this.db.computeQuery<R>(text, values, this.signal);
    const tracked = statement.then(
      () => {},
      () => {},
    );
    this.running.add(tracked);
    void tracked.then(() => this.running.delete(tracked));
    return statement;
  }

  /** Resolves once every statement started so far has stopped on the server. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
