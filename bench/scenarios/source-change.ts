import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { AUTHORS } from "../../primers/library/setup.ts";
import { startDemo } from "../lib/demo.ts";
import type { Row, Scenario } from "../lib/scenario.ts";
import { median, percentile } from "../lib/stats.ts";

const SUBSCRIPTION =
  "subscription Author($id: Int!) { author(authorId: $id) { version value { name } } }";

/** Names each subscriber has been sent, and who waits for which. */
class Arrivals {
  private readonly waiting = new Map<string, () => void>();
  seen(id: number, name: string): void {
    this.waiting.get(`${id}\0${name}`)?.();
  }
  /** Resolves when author `id` arrives with `name`. */
  expect(id: number, name: string): Promise<void> {
    return new Promise((resolve) => this.waiting.set(`${id}\0${name}`, resolve));
  }
  done(id: number, name: string): void {
    this.waiting.delete(`${id}\0${name}`);
  }
}

/**
 * Source change to subscriber: one graphql-ws client subscribed to every author of the demo
 * (`author`, whose source is the `authors` table), and a writer that renames one author at a
 * time, round-robin (so each product changes less often than its refresh delay, as isolated
 * changes do). Timed from sending the UPDATE (its commit included) to the subscriber holding
 * the new name: the source trigger's job, the worker's refresh, the change event, the hub's
 * read and the push.
 */
export const sourceChange: Scenario = {
  name: "source-change",
  title: "Source change to subscriber",
  async run(ctx) {
    const changes = ctx.settings.quick ? 20 : 400;
    const { database, kck } = await startDemo(ctx, "library", 1000);
    const client = createClient({
      url: kck.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const arrivals = new Arrivals();
    const errors: unknown[] = [];
    const first: Promise<void>[] = [];
    const stops: (() => void)[] = [];
    try {
      for (let id = 1; id <= AUTHORS; id++) {
        let ready: () => void = () => {};
        first.push(new Promise<void>((resolve) => (ready = resolve)));
        stops.push(
          client.subscribe<{ author: { version: number; value: { name: string } } }>(
            { query: SUBSCRIPTION, variables: { id } },
            {
              next: (result) => {
                if (result.errors) errors.push(...result.errors);
                const name = result.data?.author.value.name;
                if (name !== undefined) arrivals.seen(id, name);
                ready();
              },
              error: (error) => errors.push(error),
              complete: () => {},
            },
          ),
        );
      }
      await Promise.all(first);
      const before = (await kck.stats())["cpuMs"] ?? 0;
      await kck.startProfile();
      const times: number[] = [];
      for (let n = 0; n < changes; n++) {
        const id = 1 + (n % AUTHORS);
        const name = `Renamed ${n}`;
        const arrived = arrivals.expect(id, name);
        const started = performance.now();
        await database.db.query("update authors set name = $1 where id = $2", [name, id]);
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`author/${id} did not reach its subscriber in 10 s.`)),
            10_000,
          ),
        );
        await Promise.race([arrived, timeout]);
        times.push(performance.now() - started);
        arrivals.done(id, name);
        if (errors.length > 0) throw new Error(`Subscription errors: ${JSON.stringify(errors)}`);
        // A pause of 0-9 ms, so that changes do not fall in step with the worker's polling.
        await new Promise((resolve) => setTimeout(resolve, n % 10));
      }
      await kck.stopProfile();
      const cpu = ((await kck.stats())["cpuMs"] ?? 0) - before;
      const p50 = median(times);
      const p99 = percentile(times, 99);
      const rows: Row[] = [
        {
          label: "UPDATE to subscriber",
          p50,
          p99,
          note: `${changes} changes over ${AUTHORS} products; max ${percentile(times, 100).toFixed(1)} ms; server CPU ${(cpu / changes).toFixed(2)} ms per change`,
        },
      ];
      return {
        rows,
        verdicts: [
          { goal: "p50 at most 50 ms", measured: `${p50.toFixed(1)} ms`, met: p50 <= 50 },
          { goal: "p99 at most 200 ms", measured: `${p99.toFixed(1)} ms`, met: p99 <= 200 },
        ],
        notes: [
          "one writer, one change at a time; each author changes every 40 changes, less often than its refresh delay (100 ms)",
        ],
      };
    } finally {
      for (const stop of stops) stop();
      await client.dispose();
    }
  },
};
