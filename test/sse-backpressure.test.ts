import { type IncomingMessage, request } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { defineInput, definePrimer, param } from "../src/index.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

const PAD = "x".repeat(64 * 1024);
const Step = defineInput<{ by: number }>("StepInput", (t) => ({ by: t.int({ required: true }) }));

/** A large value (64 KiB) that every augment changes: many versions, fast. */
const banner = definePrimer({
  name: "banner",
  params: { id: param.int() },
  type: "JSON",
  compute: () => ({ n: 0, pad: PAD }),
  augment: {
    delta: Step,
    reduce: (current, step) => ({ n: (current as { n: number }).n + step.by, pad: PAD }),
  },
});

let database: TestDatabase;
let kck: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [banner],
    jobs: { worker: false },
  });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

/** An SSE subscriber on a raw socket: it reads until its first version, then pauses. */
interface PausedReader {
  readonly response: IncomingMessage;
  readonly text: string[];
  versions(): number[];
}

function pausedReader(query: string): Promise<PausedReader> {
  const url = new URL(kck.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
      },
      (response) => {
        response.setEncoding("utf8");
        const text: string[] = [];
        const reader: PausedReader = {
          response,
          text,
          versions: () =>
            [...text.join("").matchAll(/"version":(\d+)/g)].map((match) => Number(match[1])),
        };
        const onData = (chunk: string): void => {
          text.push(chunk);
          if (!reader.versions().length) return;
          // Stop reading: the kernel's buffers fill, then the server's writes wait.
          response.pause();
          response.socket.pause();
          response.off("data", onData);
          resolve(reader);
        };
        response.on("data", onData);
      },
    );
    req.once("error", reject);
    req.end(JSON.stringify({ query }));
  });
}

it("holds at most one event per paused SSE subscriber: the hub skips it to the latest version", async () => {
  const readers = await Promise.all(
    [1, 2, 3].map(() => pausedReader("subscription { banner(id: 1) { version value } }")),
  );
  expect(kck.app.sse.streams).toBe(3);
  const versions = 300;
  let last = 0;
  for (let i = 0; i < versions; i++) {
    const answer = await kck.gql<{ augmentBanner: { version: number } }>(
      "mutation { augmentBanner(id: 1, delta: { by: 1 }) { version } }",
    );
    last = answer.data?.augmentBanner.version ?? 0;
    // Whatever the readers do not take waits in their hub streams (bounded), not in this process's
    // socket buffers: at most one written event per stream is not yet in the kernel.
    expect(kck.app.sse.unflushed).toBeLessThanOrEqual(kck.app.sse.streams);
  }
  expect(last).toBeGreaterThan(versions);
  for (const reader of readers) {
    reader.response.on("data", (chunk: string) => reader.text.push(chunk));
    reader.response.socket.resume();
    reader.response.resume();
  }
  for (const reader of readers) {
    while (!reader.versions().includes(last)) await new Promise((r) => setTimeout(r, 20));
    const seen = reader.versions();
    // The latest, in order, without every version in between.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.length).toBeLessThan(versions);
    reader.response.destroy();
  }
  while (kck.app.sse.streams > 0) await new Promise((r) => setTimeout(r, 20));
});
