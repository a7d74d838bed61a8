import pg from "pg";
import { listen, readBody, sendJson } from "../lib/http-server.ts";
import type { RunningTarget, TargetSpec } from "../lib/target.ts";
import { type Item, inFieldOrder } from "../lib/workload.ts";

/**
 * node:http over raw `pg`: reads the id from the request's variables, one prepared
 * primary-key SELECT on KCK's own table, and the same JSON back. What a user writes by hand.
 */
export async function startPgPrimaryKey(spec: TargetSpec): Promise<RunningTarget> {
  const pool = new pg.Pool({ connectionString: spec.databaseUrl, max: 10 });
  let statements = 0;
  const server = await listen((req, res) => {
    void (async () => {
      const { variables } = JSON.parse(await readBody(req)) as { variables: { id: number } };
      statements++;
      const { rows } = await pool.query<{ value: Item }>({
        name: "bench_pk",
        text: "select value from kck.products where key = $1",
        values: [`item/${variables.id}`],
      });
      const value = rows[0]?.value;
      sendJson(res, JSON.stringify({ data: { item: value ? inFieldOrder(value) : null } }));
    })().catch((error: Error) =>
      sendJson(res, JSON.stringify({ errors: [{ message: error.message }] }), 500),
    );
  });
  return {
    url: server.url,
    stats: () => ({ statements }),
    async stop() {
      await server.stop();
      await pool.end();
    },
  };
}
