import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { fixturePrimers } from "../fixtures/counting.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { awkwardString, randomJson, seededRandom } from "../helpers/random.ts";
import { recordCounts } from "../helpers/reliability.ts";

const SEED = 4400;
let database: TestDatabase;
let kck: TestApp;
let inputs = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  kck = await startTestApp({ databaseUrl: database.url, primers: fixturePrimers });
});

afterAll(async () => {
  await kck?.stop();
  await database?.drop();
  await recordCounts({ inputsTried: inputs });
});

/** Opens a graphql-ws connection, sends `messages`, and resolves with how the server closed it. */
function exchange(messages: (string | Buffer)[], init: boolean): Promise<number> {
  return exchangeWithReason(messages, init).then(([code]) => code);
}

function exchangeWithReason(
  messages: (string | Buffer)[],
  init: boolean,
): Promise<[number, string]> {
  const socket = new WebSocket(kck.url.replace("http", "ws"), "graphql-transport-ws");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve([-1, "hung"]);
    }, 5000);
    socket.once("error", reject);
    socket.once("close", (code, reason) => {
      clearTimeout(timer);
      resolve([code, reason.toString()]);
    });
    socket.once("open", () => {
      if (init) socket.send(JSON.stringify({ type: "connection_init" }));
      for (const message of messages) socket.send(message);
      // A connection the garbage did not close is closed by us, normally.
      setTimeout(() => socket.close(1000), 300);
    });
  });
}

it(`survives garbage WebSocket messages: protocol errors close the connection, nothing crashes (seed ${SEED})`, async () => {
  const random = seededRandom(SEED);
  const codes = new Map<number, number>();
  for (let i = 0; i < 150; i++) {
    const r = random();
    const message =
      r < 0.3
        ? awkwardString(random, 10)
        : r < 0.6
          ? JSON.stringify(randomJson(random))
          : r < 0.8
            ? JSON.stringify({
                type: ["subscribe", "next", "ping", "complete", "connection_init"][i % 5],
                id: randomJson(random),
                payload: randomJson(random),
              })
            : Buffer.from(
                Array.from({ length: 1 + Math.floor(random() * 64) }, () =>
                  Math.floor(random() * 256),
                ),
              );
    const [code, reason] = await exchangeWithReason([message], random() < 0.5);
    inputs++;
    codes.set(code, (codes.get(code) ?? 0) + 1);
    // Closed by the protocol (44xx), or left open and closed by us normally: never hung, never a
    // crash. graphql-ws answers a server-only message type sent by a client with 4500 and a
    // reason that names it.
    const known =
      [1000, 1005, 4400, 4401, 4409, 4429].includes(code) ||
      (code === 4500 && /^Unexpected message of type/.test(reason));
    expect(known, `code ${code} (${reason}) after ${String(message).slice(0, 80)}`).toBe(true);
  }
  expect(codes.get(4400) ?? 0).toBeGreaterThan(0);
  // The server still answers, over HTTP and over WebSocket.
  expect((await kck.gql("{ square(n: 3) { square } }")).data).toEqual({ square: { square: 9 } });
  expect(await exchange([JSON.stringify({ type: "ping" })], true)).toBe(1000);
}, 120_000);
