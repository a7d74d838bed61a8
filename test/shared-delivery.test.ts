import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { UpdateStream } from "../src/subscriptions/update-stream.ts";
import { gauge, resolved } from "./fixtures/gauge.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

let database: TestDatabase;
let kck: TestApp;
const sockets: RawClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({
    databaseUrl: database.url,
    primers: [gauge],
    jobs: { worker: false },
  });
});

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
});

interface Message {
  id?: string;
  type: string;
  payload?: {
    data?: { gauge?: { version: number; value: Record<string, unknown> } | null };
    errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
  };
}

/** A raw graphql-ws connection: every message kept as parsed, by subscription id. */
interface RawClient {
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
  complete(id: string): void;
  /** The messages received for one id, in order. */
  of(id: string): Message[];
  /** Resolves once `predicate` holds for what was received. */
  until(predicate: () => boolean): Promise<void>;
  close(): void;
}

async function connect(): Promise<RawClient> {
  const ws = new WebSocket(kck.url.replace(/^http/, "ws"), "graphql-transport-ws");
  const byId = new Map<string, Message[]>();
  const waiters = new Set<() => void>();
  let failure: Error | undefined;
  ws.on("message", (data: Buffer) => {
    const message = JSON.parse(data.toString()) as Message;
    if (message.id !== undefined) {
      const list = byId.get(message.id) ?? [];
      list.push(message);
      byId.set(message.id, list);
    }
    for (const wake of [...waiters]) wake();
  });
  ws.on("close", (code, reason) => {
    failure = new Error(`The socket closed: ${code} ${reason.toString()}.`);
    for (const wake of [...waiters]) wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () => ws.send(JSON.stringify({ type: "connection_init" })));
    ws.once("message", () => resolve());
  });
  const client: RawClient = {
    subscribe: (id, query, variables) =>
      ws.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } })),
    complete: (id) => ws.send(JSON.stringify({ id, type: "complete" })),
    of: (id) => byId.get(id) ?? [],
    until: (predicate) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (predicate()) {
            waiters.delete(check);
            resolve();
          } else if (failure) {
            waiters.delete(check);
            reject(failure);
          }
        };
        waiters.add(check);
        check();
      }),
    close: () => ws.close(),
  };
  sockets.push(client);
  return client;
}

const step = (name: string, by = 1) => kck.app.engine.augment(`gauge/${name}`, { by });
const lastVersion = (messages: Message[]) => messages.at(-1)?.payload?.data?.gauge?.version;

describe("one execution and one serialisation per version", () => {
  it("gives every subscriber of the same operation its own id, from one execution per version", async () => {
    const query = `subscription ($name: String!) { gauge(name: $name) { version value { level doubled } } }`;
    const clients = await Promise.all([connect(), connect(), connect()]);
    // Ids are the client's: quotes and backslashes must come back exactly as sent.
    const ids = Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? `q"\\${i}` : `s${i}`));
    const before = resolved.doubled;
    for (const client of clients)
      for (const id of ids) client.subscribe(id, query, { name: "fan" });
    const all = (version: number) =>
      Promise.all(
        clients.map((c) => c.until(() => ids.every((id) => lastVersion(c.of(id)) === version))),
      );
    await all(1);
    expect(resolved.doubled - before).toBe(1);
    for (let level = 1; level <= 3; level++) {
      const start = resolved.doubled;
      const { version } = await step("fan");
      await all(version);
      // 300 subscribers, one execution of the selection set.
      expect(resolved.doubled - start).toBe(1);
    }
    for (const client of clients) {
      for (const id of ids) {
        expect(client.of(id)).toEqual(
          [0, 1, 2, 3].map((level) => ({
            id,
            type: "next",
            payload: {
              data: { gauge: { version: level + 1, value: { level, doubled: level * 2 } } },
            },
          })),
        );
      }
    }
  });

  it("gives other selection sets and variables their own payloads, and errors to those that have them", async () => {
    const client = await connect();
    const of = (fields: string) =>
      `subscription ($name: String!) { gauge(name: $name) { version value { ${fields} } } }`;
    client.subscribe("even-1", of("level even"), { name: "mixed" });
    client.subscribe("even-2", of("level even"), { name: "mixed" });
    client.subscribe("doubled", of("level doubled"), { name: "mixed" });
    client.subscribe("broken", of("level broken"), { name: "mixed" });
    client.subscribe("other-key", of("level even"), { name: "elsewhere" });
    const ids = ["even-1", "even-2", "doubled", "broken", "other-key"];
    await client.until(() => ids.every((id) => client.of(id).length === 1));
    const { version } = await step("mixed");
    await client.until(() => ids.slice(0, 4).every((id) => lastVersion(client.of(id)) === version));

    const odd = { message: "Level 1 is odd.", path: ["gauge", "value", "even"] };
    for (const id of ["even-1", "even-2"]) {
      const payload = client.of(id)[1]?.payload;
      expect(payload?.data).toEqual({ gauge: { version, value: { level: 1, even: null } } });
      expect(payload?.errors).toEqual([
        expect.objectContaining({
          ...odd,
          extensions: expect.objectContaining({ code: "BAD_PARAM" }),
        }),
      ]);
    }
    expect(client.of("doubled")[1]?.payload).toEqual({
      data: { gauge: { version, value: { level: 1, doubled: 2 } } },
    });
    // Masked as queries mask it: the client sees nothing of the cause.
    const broken = client.of("broken");
    expect(broken[0]?.payload?.errors?.[0]?.message).toBe("Unexpected error.");
    expect(broken[1]?.payload?.errors?.[0]?.message).toBe("Unexpected error.");
    expect(JSON.stringify(broken)).not.toMatch(/internal detail/);
    // Another key, same document: its own product, untouched by this augment.
    expect(client.of("other-key")).toEqual([
      {
        id: "other-key",
        type: "next",
        payload: { data: { gauge: { version: 1, value: { level: 0, even: 0 } } } },
      },
    ]);

    const next = await step("mixed");
    await client.until(() => lastVersion(client.of("even-1")) === next.version);
    expect(client.of("even-1")[2]?.payload).toEqual({
      data: { gauge: { version: next.version, value: { level: 2, even: 2 } } },
    });
  });

  it("stops a subscription the client completes, and only that one", async () => {
    const client = await connect();
    const query = `subscription ($name: String!) { gauge(name: $name) { version } }`;
    client.subscribe("leaves", query, { name: "left" });
    client.subscribe("stays", query, { name: "kept" });
    await client.until(() => client.of("leaves").length === 1 && client.of("stays").length === 1);
    const keys = kck.app.hub.size;
    client.complete("leaves");
    // The hub forgets the key once its only subscriber has gone.
    while (kck.app.hub.size !== keys - 1) await new Promise((resolve) => setImmediate(resolve));
    await step("left");
    const { version } = await step("kept");
    await client.until(() => lastVersion(client.of("stays")) === version);
    expect(client.of("leaves")).toHaveLength(1);
    expect(client.of("stays").map((m) => m.type)).toEqual(["next", "next"]);
  });

  it("answers wrong variables as yoga's executor does: one next with the client's error, then complete", async () => {
    const client = await connect();
    client.subscribe("bad", "subscription ($name: String!) { gauge(name: $name) { version } }", {
      name: 7,
    });
    await client.until(() => client.of("bad").some((m) => m.type === "complete"));
    const [next, complete] = client.of("bad");
    // The very message graphql-tools' subscribe gave before delivery was shared.
    expect(next).toEqual({
      id: "bad",
      type: "next",
      payload: {
        errors: [
          {
            message:
              'Variable "$name" got invalid value 7; String cannot represent a non string value: 7',
            locations: [{ line: 1, column: 15 }],
            extensions: { http: { status: 400 }, code: "BAD_USER_INPUT" },
          },
        ],
      },
    });
    expect(complete).toEqual({ id: "bad", type: "complete" });
  });
});

describe("a hub stream's readable signal", () => {
  it("calls back once an update is buffered, at once when one is, and when the stream ends", async () => {
    const { engine, hub } = kck.app;
    const stream = await hub.subscribe(engine.parse("gauge/signal"));
    const calls: string[] = [];
    // The current value is buffered already.
    stream.whenReadable(() => calls.push("first"));
    expect(calls).toEqual(["first"]);
    expect((await stream.next()).value?.version).toBe(1);
    const readable = new Promise<void>((resolve) =>
      stream.whenReadable(() => {
        calls.push("second");
        resolve();
      }),
    );
    expect(calls).toEqual(["first"]);
    await step("signal");
    await readable;
    expect((await stream.next()).value?.version).toBe(2);
    stream.whenReadable(() => calls.push("ended"));
    await stream.return();
    expect(calls).toEqual(["first", "second", "ended"]);
    expect((await stream.next()).done).toBe(true);
  });

  it("is how a WebSocket subscription asks for versions: only once one is there", async () => {
    // Counted, not changed: every hub stream's next() still runs.
    const next = vi.spyOn(UpdateStream.prototype, "next");
    try {
      const client = await connect();
      client.subscribe("pull", 'subscription { gauge(name: "pull") { version } }');
      await client.until(() => client.of("pull").length === 1);
      await step("pull");
      await client.until(() => client.of("pull").length === 2);
      // A round trip on the same socket: whatever the server did after sending is done.
      client.subscribe("probe", "subscription { nope }");
      await client.until(() => client.of("probe").length > 0);
      // One next() per version sent; none left pending for the version to come.
      expect(next).toHaveBeenCalledTimes(2);
    } finally {
      next.mockRestore();
    }
  });
});
