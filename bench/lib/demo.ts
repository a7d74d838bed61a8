import { join } from "node:path";
import { seedLibrary } from "../../primers/library/setup.ts";
import type { BenchDatabase } from "./database.ts";
import type { BenchContext } from "./scenario.ts";
import type { ServerHandle } from "./servers.ts";

/** The demo's primers folder: what `npm start` serves. */
const DEMO = join(import.meta.dirname, "..", "..", "primers");

/**
 * A database seeded with the demo's library (and `sales` sales), and one KCK gateway serving
 * the demo's own primers on it: scenarios that measure what a user of the demo would see.
 */
export async function startDemo(
  ctx: BenchContext,
  label: string,
  sales: number,
): Promise<{ database: BenchDatabase; kck: ServerHandle }> {
  const database = await ctx.database(label);
  ctx.log(`  seeding the demo's library with ${sales.toLocaleString("en-US")} sales`);
  await seedLibrary(database.db, { sales });
  const [kck] = (await ctx.start([
    { spec: { kind: "kck", databaseUrl: database.url, primersDir: DEMO }, label: "KCK" },
  ])) as [ServerHandle];
  return { database, kck };
}
