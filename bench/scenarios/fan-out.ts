import { openFileLimit } from "../lib/fd-limit.ts";
import type { Row, Scenario } from "../lib/scenario.ts";
import { median, percentile } from "../lib/stats.ts";
import { ITEM_FIELDS } from "../lib/workload.ts";
import { openSubscribers } from "../lib/ws-subscribers.ts";

const SUBSCRIBE = `subscription Stock($id: Int!) { stockItem(id: $id) { key version value { ${ITEM_FIELDS} } } }`;
const AUGMENT = `mutation Augment($id: Int!) { augmentStockItem(id: $id, delta: { change: 1 }) { key version value { ${ITEM_FIELDS} } } }`;
const ID = 1;
// Sockets this process and the server each need besides the subscribers' (pools, the
// harness's pipes, the database).
const SPARE_FILES = 200;

/** Applies one augment over HTTP and returns the update it answered with. */
async function augment(url: string): Promise<{ version: number }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: AUGMENT, variables: { id: ID } }),
  });
  const body = (await response.json()) as {
    data?: { augmentStockItem?: { version: number } };
    errors?: unknown;
  };
  const update = body.data?.augmentStockItem;
  if (response.status !== 200 || update === undefined)
    throw new Error(`The augment answered ${response.status} ${JSON.stringify(body)}.`);
  return update;
}

/** The bytes every subscriber (subscription id "1") should receive for an update. */
const nextMessage = (update: unknown): string =>
  JSON.stringify({ id: "1", type: "next", payload: { data: { stockItem: update } } });

/**
 * Fan-out: many graphql-ws subscribers to one key on one KCK instance, one augment per round.
 * Delivery time of each subscriber is from sending the mutation to its `next` message, on
 * this process's clock; every subscriber must get exactly the new version. Target: p99 ≤
 * 250 ms (median over rounds), and the server's CPU per update is reported.
 */
export const fanOut: Scenario = {
  name: "fan-out",
  title: "Fan-out: graphql-ws subscribers of one key, one augment",
  async run(ctx) {
    const wanted = ctx.settings.quick ? 200 : 10_000;
    const files = openFileLimit() ?? Number.POSITIVE_INFINITY;
    // Past the hard limit (Node has raised the soft one to it) run with as many as fit, and
    // say so in the verdict.
    const count = Math.max(1, Math.min(wanted, files - SPARE_FILES));
    if (count < wanted)
      ctx.log(
        `  open files limited to ${files}: ${count} subscribers (raise the hard limit: ulimit -Hn)`,
      );
    const database = await ctx.database("main");
    const [server] = await ctx.start([
      { spec: { kind: "kck", databaseUrl: database.url }, label: "KCK" },
    ]);
    if (server === undefined) throw new Error("The KCK server did not start.");
    // The product exists before anyone subscribes: the scenario measures delivery, not a miss.
    await augment(server.url);
    const opening = performance.now();
    const subscribers = await openSubscribers({
      url: server.url,
      count,
      query: SUBSCRIBE,
      variables: { id: ID },
    });
    const openMs = performance.now() - opening;
    ctx.log(`  ${count} subscribers open in ${(openMs / 1000).toFixed(1)} s`);
    const rows: Row[] = [];
    const p99s: number[] = [];
    const cpus: number[] = [];
    try {
      const warmups = ctx.settings.quick ? 1 : 2;
      for (let round = 1 - warmups; round <= ctx.settings.rounds; round++) {
        if (round === 1) await server.startProfile();
        const cpuBefore = (await server.stats())["cpuMs"] ?? 0;
        const ownBefore = process.cpuUsage();
        const delivered = subscribers.round();
        const sent = performance.now();
        const [update, delivery] = await Promise.all([
          augment(server.url).then((u) => ({ update: u, at: performance.now() })),
          delivered,
        ]);
        const cpu = ((await server.stats())["cpuMs"] ?? 0) - cpuBefore;
        const own = process.cpuUsage(ownBefore);
        const expected = Buffer.from(nextMessage(update.update));
        const wrong = delivery.messages.filter((m) => !m.equals(expected));
        if (wrong.length > 0) {
          throw new Error(
            `${wrong.length} of ${count} subscribers got something other than version ${update.update.version}, such as ${wrong[0]?.toString().slice(0, 300)}; expected ${expected.toString().slice(0, 300)}.`,
          );
        }
        if (round < 1) continue;
        const ms = delivery.at.map((at) => at - sent);
        const p99 = percentile(ms, 99);
        p99s.push(p99);
        cpus.push(cpu);
        rows.push({
          label: `round ${round}: ${count.toLocaleString("en-US")} subscribers`,
          p50: percentile(ms, 50),
          p99,
          note: `first ${Math.min(...ms).toFixed(1)} ms; max ${Math.max(...ms).toFixed(1)} ms; mutation answered at ${(update.at - sent).toFixed(1)} ms; server CPU ${cpu.toFixed(0)} ms; load generator CPU ${((own.user + own.system) / 1000).toFixed(0)} ms`,
        });
      }
      await server.stopProfile();
      // A second message for a version would arrive right after the first: give it the time.
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (subscribers.extra > 0)
        throw new Error(`Subscribers got ${subscribers.extra} messages beyond one per update.`);
    } finally {
      subscribers.close();
    }
    const p99 = median(p99s);
    const { rss } = await server.stats();
    return {
      rows,
      verdicts: [
        {
          goal: `p99 delivery ≤ 250 ms to ${wanted.toLocaleString("en-US")} subscribers of one key`,
          measured: `${p99.toFixed(1)} ms (median of rounds' p99)${count < wanted ? `, with only ${count} subscribers: raise the hard limit of open files` : ""}; server CPU per update ${median(cpus).toFixed(0)} ms (median)`,
          met: count >= wanted && p99 <= 250,
        },
      ],
      notes: [
        `raw ws clients in the bench process, one subscription each, opened ${ctx.settings.quick ? "" : "100 at a time "}in ${(openMs / 1000).toFixed(1)} s; server rss ${((rss ?? 0) / 2 ** 20).toFixed(0)} MiB with them open; delivery from sending the augment mutation to each subscriber's next message; every subscriber checked to get exactly the new version, byte for byte`,
      ],
    };
  },
};
