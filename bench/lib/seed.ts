import { join } from "node:path";
import type { Queryable } from "../../src/db/db.ts";
import { loadPrimers } from "../../src/load-primers.ts";
import { item } from "../primers/items.ts";
import { ITEM_SQL, type Item, inFieldOrder, makeItem } from "./workload.ts";

/**
 * Stores items `from..to` straight into KCK's products table as computed, fresh-forever
 * products of the bench primer `item` (computing a million through the engine would take
 * minutes and measure nothing the bench is about), under the primer's current code version, so
 * that a server's start does not end their freshness (and several starting at once do not
 * update a million rows each). Checks a sample against `makeItem`.
 */
export async function seedItems(db: Queryable, from: number, to: number): Promise<void> {
  // A primer's default code version covers its module's code once it is loaded as the servers
  // load it (from the folder): load it so here too, or the seeded rows are older code's.
  await loadPrimers(join(import.meta.dirname, "..", "primers"));
  const batch = 100_000;
  for (let start = from; start <= to; start += batch) {
    await db.query(
      `insert into kck.products
         (key, primer, params, value, hash, version, computed_at, compute_count, code_version)
       select 'item/' || i, 'item', jsonb_build_object('id', i), ${ITEM_SQL}, md5(i::text), 1, now(), 1, $3
       from generate_series($1::int, $2::int) as i
       on conflict (key) do nothing`,
      [start, Math.min(to, start + batch - 1), item.codeVersion],
    );
  }
  await db.query("analyze kck.products");
  const sample = [from, Math.floor((from + to) / 2), to];
  const { rows } = await db.query<{ value: Item }>(
    "select value from kck.products where key = any($1) order by (value->>'id')::int",
    [sample.map((id) => `item/${id}`)],
  );
  rows.forEach((row, n) => {
    const expected = JSON.stringify(makeItem(sample[n] as number));
    if (JSON.stringify(inFieldOrder(row.value)) !== expected) {
      throw new Error(
        `The seeded item ${sample[n]} differs from makeItem: ${JSON.stringify(row.value)}.`,
      );
    }
  });
}
