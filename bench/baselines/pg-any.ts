import pg from "pg";
import { listen, readBody, sendJson } from "../lib/http-server.ts";
import type { RunningTarget, TargetSpec } from "../lib/target.ts";
import { type Item, inFieldOrder } from "../lib/workload.ts";

/**
 * node:http over raw `pg`: reads every id from the request's variables, one prepared
 * `key = ANY($1)` SELECT for all of them, and the same JSON back, fields in request order.
 */
export async function startPgAny(spec: TargetSpec): Promise<RunningTarget> {
  const pool = new pg.Pool({ connectionString: spec.databaseUrl, max: 10 });
  let statements = 0;
  const server = await listen((req, res) => {
    void (async () => {
      const { variables } = JSON.parse(await readBody(req)) as {
        variables: Record<string, number>;
      };
      const aliases = Object.keys(variables);
      const keys = aliases.map((alias) => `item/${variables[alias]}`);
      statements++;
      const { rows } = await pool.query<{ key: string; value: Item }>({
        name: "bench_any",
        text: "select key, value from kck.products where key = any($1)",
        values: [keys],
      });
      const byKey = new Map(rows.map((row) => [row.key, row.value]));
      const data: Record<string, Item | null> = {};
      aliases.forEach((alias, n) => {
        const value = byKey.get(keys[n] as string);
        data[alias] = value ? inFieldOrder(value) : null;
      });
      sendJson(res, JSON.stringify({ data }));
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
