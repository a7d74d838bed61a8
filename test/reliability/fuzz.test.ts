import { afterAll, beforeAll, expect, it } from "vitest";
import { KckError } from "../../src/errors.ts";
import { parseKey } from "../../src/keys.ts";
import { fixturePrimers } from "../fixtures/counting.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { awkwardString, randomJson, seededRandom } from "../helpers/random.ts";
import { recordCounts } from "../helpers/reliability.ts";

const SEED = 20261124;
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

const primers = new Map(fixturePrimers.map((p) => [p.name, p]));
const names = [...primers.keys()];

/** A key that does not parse: the generator keeps only those, so no input may write anything. */
function badKey(random: () => number): string {
  for (;;) {
    const r = random();
    const name = names[Math.floor(random() * names.length)] ?? "square";
    const key =
      r < 0.3
        ? awkwardString(random)
        : r < 0.8
          ? `${name}/${awkwardString(random)}`
          : `${name}/${awkwardString(random)}/${awkwardString(random)}`;
    try {
      parseKey(primers, key);
    } catch (error) {
      if (error instanceof KckError) return key;
      throw error;
    }
  }
}

/** POSTs a body and checks the answer is a clear error and never a server failure. */
async function send(
  body: string | Uint8Array<ArrayBuffer>,
  contentType = "application/json",
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(kck.url, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
  const text = await response.text();
  expect(response.status, text).toBeLessThan(500);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`The answer was not JSON (status ${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, json };
}

function expectErrors(json: unknown, count = 1): void {
  const errors = (json as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] })
    .errors;
  expect(errors?.length ?? 0, JSON.stringify(json).slice(0, 300)).toBeGreaterThanOrEqual(count);
  for (const error of errors ?? []) {
    expect(typeof error.message).toBe("string");
    expect(error.message).not.toBe("Unexpected error.");
  }
}

async function inParallel<T>(
  items: T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

it(`answers more than 10,000 generated bad inputs with clear errors and writes nothing (seed ${SEED})`, async () => {
  const random = seededRandom(SEED);

  // Bad keys, twenty to an operation, through every field and mutation that takes keys.
  const keyBatches = Array.from({ length: 320 }, () =>
    Array.from({ length: 20 }, () => badKey(random)),
  );
  await inParallel(keyBatches, 8, async (keys) => {
    const field = ["product", "refresh", "invalidate"][Math.floor(random() * 3)] as string;
    const op = field === "product" ? "query" : "mutation";
    const vars = keys.map((_, i) => `$k${i}: String!`).join(", ");
    const selection = field === "product" ? "{ key }" : "{ key version }";
    const fields = keys.map((_, i) => `f${i}: ${field}(key: $k${i}) ${selection}`).join(" ");
    const variables = Object.fromEntries(keys.map((k, i) => [`k${i}`, k]));
    const { json } = await send(
      JSON.stringify({ query: `${op} (${vars}) { ${fields} }`, variables }),
    );
    expectErrors(json, keys.length);
    inputs += keys.length;
  });

  // prime takes a list: one bad key in it primes nothing.
  await inParallel(
    Array.from({ length: 100 }, () => Array.from({ length: 10 }, () => badKey(random))),
    8,
    async (keys) => {
      const { json } = await send(
        JSON.stringify({
          query: "mutation ($keys: [String!]!) { prime(keys: $keys) }",
          variables: { keys },
        }),
      );
      expectErrors(json);
      inputs += keys.length;
    },
  );

  // Arguments of the wrong type, as variables and as literals.
  const wrong = Array.from({ length: 2000 }, () => randomJson(random)).filter(
    (v) => !(Number.isInteger(v) && Math.abs(v as number) < 2 ** 31),
  );
  await inParallel(wrong, 8, async (value) => {
    const literal = random() < 0.3;
    const body = literal
      ? { query: `{ square(n: ${JSON.stringify(value)}) { n } }` }
      : { query: "query ($n: Int!) { square(n: $n) { n } }", variables: { n: value } };
    const { json } = await send(JSON.stringify(body));
    expectErrors(json);
    inputs += 1;
  });

  // Bodies that are not GraphQL requests at all.
  const bodies: (string | Uint8Array<ArrayBuffer>)[] = [
    "",
    "{",
    "null",
    "[]",
    "42",
    '"query"',
    '{"query": 42}',
    '{"query": null}',
    '{"query": "{", "variables": 1}',
    '{"query": "{ __typename }", "variables": "x"}',
    '{"query": "{ __typename }", "operationName": 7}',
  ];
  for (let i = 0; i < 1500; i++) {
    const r = random();
    if (r < 0.4) bodies.push(awkwardString(random, 12));
    else if (r < 0.7)
      bodies.push(
        JSON.stringify({ query: awkwardString(random, 12), variables: randomJson(random) }),
      );
    else
      bodies.push(
        Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)),
      );
  }
  await inParallel(bodies, 8, async (body) => {
    const { json } = await send(body);
    // An empty batch is answered with an empty list; anything else must carry errors.
    if (body === "[]") expect(json).toEqual([]);
    else if (Array.isArray(json)) for (const result of json) expectErrors(result);
    else expectErrors(json);
    inputs += 1;
  });

  // Deep, wide and heavily aliased operations.
  const shapes: string[] = [];
  for (let i = 0; i < 600; i++) {
    const r = random();
    const n = 13 + Math.floor(random() * 60);
    if (r < 0.33)
      shapes.push(
        `{ product(key: "square/1") ${"{ dependencies ".repeat(n)}{ key }${" }".repeat(n)} }`,
      );
    else if (r < 0.66)
      shapes.push(
        `{ ${Array.from({ length: n + 200 }, (_, j) => `a${j}: square(n: ${j}) { n }`).join(" ")} }`,
      );
    else shapes.push(`{ ${"__typename ".repeat(10_000 + n)} }`);
  }
  await inParallel(shapes, 4, async (query) => {
    const { json } = await send(JSON.stringify({ query }));
    expectErrors(json);
    inputs += 1;
  });

  expect(inputs).toBeGreaterThan(10_000);
  const { rows } = await kck.app.engine.db.query<{ n: number }>(
    "select count(*)::int as n from kck.products",
  );
  expect(rows[0]?.n).toBe(0);
  expect((await kck.gql("{ square(n: 2) { square } }")).data).toEqual({ square: { square: 4 } });
}, 240_000);
