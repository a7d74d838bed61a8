import { afterAll, beforeAll, expect, it } from "vitest";
import { SHELVES, setupShelves, shelf, word } from "./fixtures/shelves.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";
import { seededRandom } from "./helpers/random.ts";
import { type RequestShape, requestShape, SHAPE_LIMITS, TOKENS } from "./helpers/request-shapes.ts";

/**
 * The differential test: the same generated requests sent to a gateway with its per-instance
 * layers on (memory layer and response fast path) and to one with both off (every request
 * through yoga, every product read from PostgreSQL), on one database; every answer must be the
 * same. Replay a failure with KCK_DIFF_SEED (and more cases with KCK_DIFF_CASES).
 *
 * What is normalised, and why (nothing else is):
 * - `x-request-id` and `date` are left out: a new id and the clock's second per request.
 * - `cache-control` seconds (max-age, stale-while-revalidate) may differ by one: the two
 *   requests of a case are answered a few milliseconds apart and may straddle a second.
 * - A subscription's endless stream is compared up to its first event (its first JSON line).
 * - Changes (augment, invalidate, refresh, a source row's update) are made on either gateway,
 *   and the comparison resumes once both have heard the product's change event: a gateway's
 *   per-instance layers follow other instances' changes when their events arrive (see
 *   ARCHITECTURE.md), which is the one staleness the layers are allowed.
 */

const SEED = Number(process.env["KCK_DIFF_SEED"] ?? 20_261_202);
const CASES = Number(process.env["KCK_DIFF_CASES"] ?? 600);
const CHANGE_EVERY = 25;

let database: TestDatabase;
let on: TestApp;
let off: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  const common = {
    databaseUrl: database.url,
    primers: [shelf, word],
    setups: [setupShelves],
    limits: SHAPE_LIMITS,
    auth: { readToken: TOKENS.read, adminToken: TOKENS.admin },
    poolSize: 4,
  };
  on = await startTestApp(common);
  off = await startTestApp({ ...common, memory: false, responseCache: false });
});

afterAll(async () => {
  await on?.stop();
  await off?.stop();
  await database?.drop();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const IGNORED = new Set(["x-request-id", "date"]);

/** The answer, or what went wrong at the HTTP level (a malformed response, a reset). */
async function send(app: TestApp, shape: RequestShape): Promise<Answer> {
  try {
    return await exchange(app, shape);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { status: -1, headers: {}, body: `${String(error)} ${cause?.code ?? ""}` };
  }
}

async function exchange(app: TestApp, shape: RequestShape): Promise<Answer> {
  const controller = new AbortController();
  const response = await fetch(new URL(shape.path, app.url), {
    method: shape.method,
    headers: shape.headers,
    ...(shape.body === undefined ? {} : { body: shape.body }),
    signal: controller.signal,
  });
  let body = "";
  if (shape.stream && response.body) {
    // Read up to the first JSON line, then hang up: the stream may never end.
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      body += decoder.decode(value, { stream: true });
      if (/\{.*\}\s*$/m.test(body)) break;
    }
    controller.abort();
    body = /^.*?(\{.*\})\s*$/m.exec(body)?.[1] ?? body;
  } else body = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!IGNORED.has(name)) headers[name] = value;
  });
  return { status: response.status, headers, body };
}

/** `b` with its cache-control seconds replaced by `a`'s where they differ by at most one. */
function normalised(a: Answer, b: Answer): Answer {
  const ours = a.headers["cache-control"];
  const theirs = b.headers["cache-control"];
  if (ours === undefined || theirs === undefined || ours === theirs) return b;
  const seconds = (text: string) => [...text.matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
  const x = seconds(ours);
  const y = seconds(theirs);
  const close =
    ours.replace(/=\d+/g, "=") === theirs.replace(/=\d+/g, "=") &&
    x.length === y.length &&
    x.every((v, i) => Math.abs(v - (y[i] as number)) <= 1);
  return close ? { ...b, headers: { ...b.headers, "cache-control": ours } } : b;
}

/** Resolves when `app` hears a change event of `key`. */
const eventOf = (app: TestApp, key: string) =>
  new Promise<void>((resolve) => {
    const stop = app.app.engine.onChange((event) => {
      if (event.k !== key) return;
      stop();
      resolve();
    });
  });

const admin = { authorization: `Bearer ${TOKENS.admin}` };

/** One change of a stored shelf, on either gateway; resolves once both heard it. */
async function change(random: () => number): Promise<string> {
  const id = 1 + Math.floor(random() * SHELVES);
  const key = `shelf/${id}`;
  const heard = Promise.all([eventOf(on, key), eventOf(off, key)]);
  const where = random() < 0.5 ? on : off;
  const kind = ["augment", "invalidate", "refresh", "source"][Math.floor(random() * 4)];
  if (kind === "augment") {
    await where.gql(
      `mutation { augmentShelf(id: ${id}, delta: { by: 1 }) { version } }`,
      {},
      admin,
    );
  } else if (kind === "invalidate" || kind === "refresh") {
    await where.gql(`mutation { ${kind}(key: "${key}") { key } }`, {}, admin);
  } else {
    await where.app.engine.db.query("update diff_shelves set stock = stock + 1 where id = $1", [
      id,
    ]);
  }
  await heard;
  return `${kind} of ${key} on ${where === on ? "the layered gateway" : "the plain one"}`;
}

it(`answers ${CASES} generated requests exactly as yoga does with the layers off`, async () => {
  const random = seededRandom(SEED);
  // Every shelf stored, so that changes have something to change.
  await off.gql(
    `{ ${Array.from({ length: SHELVES }, (_, n) => `s${n}: shelf(id: ${n + 1}) { id }`).join(" ")} }`,
    {},
    admin,
  );
  const pool: RequestShape[] = [];
  const etags = new Map<string, string>();
  const differences: string[] = [];
  const history: string[] = [];
  let sent = 0;
  let nextChange = CHANGE_EVERY;

  const compare = async (shape: RequestShape, n: number) => {
    const [a, b] = await Promise.all([send(off, shape), send(on, shape)]);
    const signature = JSON.stringify([shape.method, shape.path, shape.body, shape.headers]);
    if (a.headers["etag"]) etags.set(signature, a.headers["etag"]);
    const c = normalised(a, b);
    if (JSON.stringify(a) !== JSON.stringify(c)) {
      differences.push(
        `case ${n} (${shape.label}; seed ${SEED}; after ${history.slice(-2).join(", ") || "no change"}):\n` +
          `  request ${JSON.stringify(shape)}\n  layers off ${JSON.stringify(a)}\n  layers on  ${JSON.stringify(c)}`,
      );
    }
  };

  while (sent < CASES) {
    if (sent >= nextChange) {
      history.push(await change(random));
      nextChange += CHANGE_EVERY;
    }
    // A round: 1-4 requests at once, or one request many times at once (a burst).
    const burst = random() < 0.08;
    const width = burst ? 6 : 1 + Math.floor(random() * 4);
    const round: RequestShape[] = [];
    for (let i = 0; i < (burst ? 1 : width); i++) {
      let shape: RequestShape;
      if (pool.length > 0 && random() < 0.55) {
        shape = pool[Math.floor(random() * pool.length)] as RequestShape;
        const etag = etags.get(
          JSON.stringify([shape.method, shape.path, shape.body, shape.headers]),
        );
        const r = random();
        if (etag && r < 0.3) {
          const tag = r < 0.05 ? `W/${etag}` : r < 0.08 ? `"other", ${etag}` : etag;
          shape = { ...shape, headers: { ...shape.headers, "if-none-match": tag } };
        } else if (r < 0.35) {
          shape = { ...shape, headers: { ...shape.headers, "if-none-match": '"stale-tag"' } };
        }
      } else {
        shape = requestShape(random);
        pool.push(shape);
      }
      round.push(shape);
    }
    const requests = burst ? Array<RequestShape>(width).fill(round[0] as RequestShape) : round;
    await Promise.all(requests.map((shape, i) => compare(shape, sent + i)));
    sent += requests.length;
  }

  expect(differences.slice(0, 5), `${differences.length} of ${sent} answers differ`).toEqual([]);
  // The layers were exercised: many answers came from the response fast path.
  expect(on.app.responseCache?.stats().hits ?? 0).toBeGreaterThan(25);
  // And many were answered through yoga's envelop without its HTTP layer.
  expect(on.app.responseCache?.stats().direct ?? 0).toBeGreaterThan(10);
  // Subscriptions whose clients hung up released everything on both gateways.
  await expect.poll(() => on.app.hub.size, { timeout: 10_000 }).toBe(0);
  await expect.poll(() => off.app.hub.size, { timeout: 10_000 }).toBe(0);
});
