import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../src/db/db.ts";
import { type ProductSummary, readGraph } from "../src/ops/catalog.ts";
import {
  dependencyTree,
  type Graph,
  renderTree,
  toDot,
  toMermaid,
} from "../src/ops/graph-format.ts";
import { migrate } from "../src/sql/migrate.ts";
import { createTestDatabase, type TestDatabase, testDb } from "./helpers/db.ts";

const summary = (key: string, state: ProductSummary["state"], lastError: string | null = null) =>
  ({ key, state, version: 1, lastError }) as ProductSummary;

const graph: Graph = {
  nodes: ['a/"quoted"', "a/1", "b/1", "c/1"],
  edges: [
    { dependent: "a/1", dependency: "b/1" },
    { dependent: "a/1", dependency: 'a/"quoted"' },
    { dependent: "b/1", dependency: "c/1" },
    { dependent: "c/1", dependency: "a/1" },
  ],
  products: new Map([
    ["a/1", summary("a/1", "FRESH")],
    ["b/1", summary("b/1", "STALE")],
    ["c/1", summary("c/1", "FRESH", "boom")],
  ]),
};

describe("graph formats", () => {
  it("writes DOT with quoted keys and fills by state", () => {
    const dot = toDot(graph);
    expect(dot).toContain('"a/\\"quoted\\"" [fillcolor="#ffffff", tooltip="MISSING"];');
    expect(dot).toContain('"b/1" [fillcolor="#fff3bf", tooltip="STALE"];');
    expect(dot).toContain('"c/1" [fillcolor="#ffc9c9", tooltip="FAILING"];');
    expect(dot).toContain('"a/1" -> "a/\\"quoted\\"";');
    expect(dot.endsWith("}\n")).toBe(true);
  });

  it("writes Mermaid with safe ids and entity-quoted labels", () => {
    const mermaid = toMermaid(graph).split("\n");
    expect(mermaid.slice(0, 5)).toEqual([
      "flowchart LR",
      '  n0["a/#quot;quoted#quot;"]',
      '  n1["a/1"]',
      '  n2["b/1"]',
      '  n3["c/1"]',
    ]);
    expect(mermaid).toContain("  n3 --> n1");
    expect(mermaid).toContain("  class n3 failing");
  });

  it("builds a dependency tree that stops at a cycle", () => {
    const tree = dependencyTree("a/1", graph);
    expect(renderTree(tree)).toEqual([
      "a/1  FRESH v1",
      "├─ b/1  STALE v1",
      "│  └─ c/1  FAILING v1",
      "│     └─ a/1  FRESH v1  (cycle)",
      '└─ a/"quoted"  MISSING',
    ]);
  });
});

describe("readGraph", () => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = testDb(database.url);
    await migrate(db);
    // A cycle across computes made at different times: the engine stops one within a compute,
    // but the stored edges can still form one, and reading them must end.
    await db.query(
      `insert into kck.products (key, primer, params) select k, split_part(k, '/', 1), '{}'
       from unnest($1::text[]) as k`,
      [["x/1", "y/1", "z/1", "w/1"]],
    );
    await db.query(
      "insert into kck.dependencies (dependent, dependency) values ('x/1', 'y/1'), ('y/1', 'z/1'), ('z/1', 'x/1'), ('w/1', 'x/1')",
    );
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it("reads the edges around a key, both ways, through a cycle", async () => {
    const around = await readGraph(db, { key: "y/1" });
    expect(around.nodes).toEqual(["w/1", "x/1", "y/1", "z/1"]);
    expect(around.edges).toHaveLength(4);
    expect(around.products.get("x/1")?.state).toBe("MISSING");
    expect((await readGraph(db, { primer: "w" })).edges).toEqual([
      { dependent: "w/1", dependency: "x/1" },
    ]);
    expect((await readGraph(db, { limit: 2 })).edges).toHaveLength(2);
  });
});
