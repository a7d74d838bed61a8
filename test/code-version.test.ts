import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../src/db/db.ts";
import { definePrimer, Engine, param } from "../src/index.ts";
import { loadPrimers } from "../src/load-primers.ts";
import { createTestDatabase, type TestDatabase, testDb } from "./helpers/db.ts";

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = testDb(database.url);
});

afterAll(async () => {
  await db?.close();
  await database?.drop();
});

/** A primer named `name` whose value is `value`, at code version `version` (or its hash). */
const primer = (
  name: string,
  value: string,
  options: { version?: string; onCodeChange?: "stale" | "expire" } = {},
) =>
  definePrimer({
    name,
    params: { n: param.int() },
    type: "String",
    ...options,
    compute: ({ n }) => `${value}-${n}`,
  });

/** Runs `fn` on an engine serving `primers`, then stops the engine. */
async function withEngine<T>(
  primers: Parameters<typeof Engine.start>[0]["primers"],
  fn: (engine: Engine) => Promise<T>,
): Promise<T> {
  const engine = await Engine.start({ db, primers });
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

const waitFor = async (check: () => Promise<boolean>): Promise<void> => {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
};

it("records the code version and serves a product of older code stale, refreshing it", async () => {
  await withEngine([primer("greeting", "old", { version: "v1" })], async (engine) => {
    expect(await engine.get("greeting/1")).toBe("old-1");
    expect((await engine.inspect("greeting/1"))?.codeVersion).toBe("v1");
  });
  // Same code: still fresh.
  await withEngine([primer("greeting", "old", { version: "v1" })], async (engine) => {
    const stored = await engine.inspect("greeting/1");
    expect(stored?.freshUntil).toBeNull();
  });
  await withEngine([primer("greeting", "new", { version: "v2" })], async (engine) => {
    const before = await engine.inspect("greeting/1");
    expect(before?.codeVersion).toBe("v1");
    expect(before?.freshUntil).not.toBeNull();
    // Served at once (stale), refreshed in the background by the new code.
    expect(await engine.get("greeting/1")).toBe("old-1");
    await waitFor(async () => (await engine.inspect("greeting/1"))?.codeVersion === "v2");
    const after = await engine.inspect("greeting/1");
    expect(after?.value).toBe("new-1");
    expect(after?.freshUntil).toBeNull();
  });
});

it("expires the products of older code when the primer asks for it", async () => {
  const expire = "expire" as const;
  await withEngine([primer("strict", "old", { version: "1", onCodeChange: expire })], async (e) => {
    expect(await e.get("strict/2")).toBe("old-2");
  });
  await withEngine(
    [primer("strict", "new", { version: "2", onCodeChange: expire })],
    async (engine) => {
      expect(await engine.get("strict/2")).toBe("new-2");
    },
  );
});

it("hashes the definition by default: the compute's source text changes the version", () => {
  // The closure's variable is not part of the source text: same text, same version.
  const a = primer("hashed", "a");
  const again = primer("hashed", "a");
  expect(a.codeVersion).toMatch(/^[\w-]{16}$/);
  expect(again.codeVersion).toBe(a.codeVersion);
  const other = definePrimer({
    name: "hashed",
    params: { n: param.int() },
    type: "String",
    compute: ({ n }) => `b-${n * 2}`,
  });
  expect(other.codeVersion).not.toBe(a.codeVersion);
  const typed = definePrimer({
    name: "hashed",
    params: { n: param.int() },
    type: "Int",
    compute: ({ n }) => n,
  });
  const retyped = definePrimer({
    name: "hashed",
    params: { n: param.int() },
    type: "Float",
    compute: ({ n }) => n,
  });
  expect(typed.codeVersion).not.toBe(retyped.codeVersion);
});

it("rejects a bad onCodeChange with a coded error", () => {
  expect(() => primer("bad", "x", { onCodeChange: "later" as unknown as "stale" })).toThrowError(
    /onCodeChange "later"; it must be "stale" or "expire"/,
  );
});

it("covers, for a loaded primer, its module's code and the modules it imports by relative path", async () => {
  const root = await mkdtemp(join(tmpdir(), "kck-code-version-"));
  const index = join(import.meta.dirname, "..", "src", "index.ts");
  // A primer whose compute is the same text in every folder; what it multiplies by is a
  // constant in a sibling module (or, with `version`, whatever the author says).
  const project = async (name: string, factor: number, version?: string) => {
    const dir = join(root, name);
    await mkdir(join(dir, "lib"), { recursive: true });
    await writeFile(join(dir, "lib", "factor.ts"), `export const FACTOR = ${factor};\n`);
    await writeFile(
      join(dir, "scaled.ts"),
      `import { definePrimer, param } from ${JSON.stringify(index)};
import { FACTOR } from "./lib/factor.ts";
export const scaled = definePrimer({
  name: "scaled",
  params: { n: param.int() },
  type: "Int",${version ? `\n  version: ${JSON.stringify(version)},` : ""}
  compute: ({ n }) => n * FACTOR,
});
`,
    );
    const { primers, files } = await loadPrimers(dir);
    return { version: primers[0]?.codeVersion, files };
  };
  try {
    const one = await project("one", 1);
    const same = await project("same", 1);
    const other = await project("other", 2);
    const explicit = await project("explicit", 3, "v1");
    expect(one.version).toMatch(/^[\w-]{16}$/);
    expect(same.version).toBe(one.version);
    expect(other.version).not.toBe(one.version);
    expect(explicit.version).toBe("v1");
    expect(one.files.map((f) => f.slice(root.length)).sort()).toEqual([
      "/one/lib/factor.ts",
      "/one/scaled.ts",
    ]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
