import { describe, expect, it } from "vitest";
import { MemoryLayer } from "../src/engine/memory-layer.ts";
import type { StoredProduct } from "../src/engine/product.ts";

const product = (
  key: string,
  options: {
    version?: number;
    value?: unknown;
    freshUntil?: Date | null;
    staleUntil?: Date | null;
  } = {},
): StoredProduct => ({
  key,
  primer: key.split("/")[0] ?? key,
  params: {},
  value: options.value ?? { key },
  version: options.version ?? 1,
  hash: "h",
  computedAt: new Date(),
  freshUntil: options.freshUntil ?? null,
  staleUntil: options.staleUntil ?? null,
  computeCount: 1,
  lastComputeMs: 1,
  lastError: null,
  lastErrorAt: null,
  errorCount: 0,
  augmentCount: 0,
  lastAugmentedAt: null,
  invalidations: 0,
  notFound: null,
  codeVersion: null,
});

/** A stand-in for the database read: answers from a table and counts what it was asked. */
function table(rows: StoredProduct[]) {
  const asked: string[][] = [];
  return {
    asked,
    read: async (keys: readonly string[]) => {
      asked.push([...keys]);
      return new Map(rows.filter((row) => keys.includes(row.key)).map((row) => [row.key, row]));
    },
  };
}

describe("memory layer", () => {
  it("reads only the keys it does not hold, and serves the rest from memory", async () => {
    const memory = new MemoryLayer();
    const db = table([product("a/1"), product("a/2")]);
    await memory.read(["a/1"], db.read);
    const found = await memory.read(["a/1", "a/2", "a/3"], db.read);
    expect(db.asked).toEqual([["a/1"], ["a/2", "a/3"]]);
    expect([...found.keys()].sort()).toEqual(["a/1", "a/2"]);
    expect(memory.stats()).toMatchObject({ entries: 2, hits: 1, misses: 3 });
  });

  it("keeps at most maxEntries, evicting the least recently used first", async () => {
    const memory = new MemoryLayer({ maxEntries: 3 });
    const db = table(["a", "b", "c", "d"].map((k) => product(`x/${k}`)));
    await memory.read(["x/a", "x/b", "x/c"], db.read);
    expect(memory.get("x/a")).toBeDefined();
    const b = memory.entryOf(memory.peek("x/b") as StoredProduct);
    await memory.read(["x/d"], db.read);
    expect(memory.stats().entries).toBe(3);
    expect(memory.peek("x/b")).toBeUndefined();
    // Whoever holds the evicted entry (the response cache) sees that it is gone.
    expect(b?.live).toBe(false);
    expect(memory.peek("x/a")).toBeDefined();
    expect(memory.peek("x/d")).toBeDefined();
  });

  it("keeps its estimated bytes under maxBytes and never keeps a value larger than that", async () => {
    const memory = new MemoryLayer({ maxBytes: 4000 });
    const rows = Array.from({ length: 20 }, (_, n) =>
      product(`big/${n}`, { value: "x".repeat(500) }),
    );
    const db = table([...rows, product("huge/1", { value: "y".repeat(5000) })]);
    await memory.read(
      rows.map((row) => row.key),
      db.read,
    );
    const { entries, bytes } = memory.stats();
    expect(bytes).toBeLessThanOrEqual(4000);
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(20);
    await memory.read(["huge/1"], db.read);
    expect(memory.peek("huge/1")).toBeUndefined();
  });

  it("drops a key on its change event, and does not keep a read that began before it", async () => {
    const memory = new MemoryLayer();
    const db = table([product("a/1"), product("a/2")]);
    await memory.read(["a/1"], db.read);
    const entry = memory.entryOf(memory.peek("a/1") as StoredProduct);
    memory.changed("a/1");
    expect(memory.peek("a/1")).toBeUndefined();
    expect(entry?.live).toBe(false);

    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = memory.read(["a/1", "a/2"], async (keys) => {
      await gate;
      return db.read(keys);
    });
    memory.changed("a/1");
    release();
    const found = await slow;
    // The read still answers its caller, but only the key without an event since is kept.
    expect(found.size).toBe(2);
    expect(memory.peek("a/1")).toBeUndefined();
    expect(memory.peek("a/2")).toBeDefined();
  });

  it("serves fresh and stale copies and reads expired ones again", async () => {
    const memory = new MemoryLayer();
    const past = new Date(Date.now() - 1000);
    const future = new Date(Date.now() + 3_600_000);
    const db = table([
      product("s/stale", { freshUntil: past, staleUntil: future }),
      product("s/expired", { freshUntil: past, staleUntil: past }),
    ]);
    await memory.read(["s/stale", "s/expired"], db.read);
    await memory.read(["s/stale", "s/expired"], db.read);
    expect(db.asked).toEqual([["s/stale", "s/expired"], ["s/expired"]]);
  });

  it("holds and keeps nothing while suspended, and starts empty when resumed", async () => {
    const memory = new MemoryLayer();
    const db = table([product("a/1")]);
    await memory.read(["a/1"], db.read);
    memory.suspend();
    expect(memory.stats().entries).toBe(0);
    await memory.read(["a/1"], db.read);
    expect(memory.peek("a/1")).toBeUndefined();
    memory.resume();
    await memory.read(["a/1"], db.read);
    expect(memory.peek("a/1")).toBeDefined();
  });

  it("never replaces a copy with an older version", async () => {
    const memory = new MemoryLayer();
    const past = new Date(Date.now() - 1000);
    // Expired, so that the next read goes to the table, which offers an older row.
    const newer = product("v/1", { version: 3, freshUntil: past, staleUntil: past });
    await memory.read(["v/1"], table([newer]).read);
    await memory.read(["v/1"], table([product("v/1", { version: 2 })]).read);
    expect(memory.peek("v/1")?.version).toBe(3);
  });

  it("keeps nothing with a cap of nothing", async () => {
    const db = table([product("a/1")]);
    for (const options of [{ maxEntries: 0 }, { maxBytes: 0 }]) {
      const memory = new MemoryLayer(options);
      await memory.read(["a/1"], db.read);
      expect(memory.peek("a/1")).toBeUndefined();
      expect(memory.stats()).toMatchObject({ entries: 0, bytes: 0 });
    }
  });

  it("freezes the values it shares between requests", async () => {
    const memory = new MemoryLayer();
    await memory.read(["f/1"], table([product("f/1", { value: { list: [1, 2] } })]).read);
    const value = memory.peek("f/1")?.value as { list: number[] };
    expect(Object.isFrozen(value)).toBe(true);
    expect(() => value.list.push(3)).toThrow(TypeError);
  });
});
