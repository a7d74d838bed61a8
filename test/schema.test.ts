import { readFile } from "node:fs/promises";
import { buildSchema as buildFromSdl, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { buildSchema } from "../src/graphql/schema.ts";
import { printSorted, servedSchema } from "../src/graphql/schema-file.ts";
import { defineInput, definePrimer, param } from "../src/index.ts";

describe("schema/schema.graphql", () => {
  it("matches the schema the primers build (run `npm run codegen` after changing them)", async () => {
    const built = printSorted(await servedSchema());
    const committed = printSorted(buildFromSdl(await readFile("schema/schema.graphql", "utf8")));
    expect(committed).toBe(built);
  });

  it("validates every client operation under schema/operations", async () => {
    const schema = await servedSchema();
    const document = parse(await readFile("schema/operations/library.graphql", "utf8"));
    expect(validate(schema, document)).toEqual([]);
    expect(document.definitions.length).toBeGreaterThan(3);
  });

  it("has a query field per primer, product(key) and the cache mutations", async () => {
    const schema = await servedSchema();
    const query = Object.keys(schema.getQueryType()?.getFields() ?? {});
    expect(query).toEqual(
      expect.arrayContaining([
        "titleList",
        "author",
        "authorProfile",
        "genreStats",
        "catalog",
        "product",
      ]),
    );
    const mutation = Object.keys(schema.getMutationType()?.getFields() ?? {});
    expect(mutation).toEqual(expect.arrayContaining(["refresh", "invalidate", "prime"]));
    expect(String(schema.getQueryType()?.getFields()["titleList"]?.args[0]?.type)).toBe("Int!");
  });
});

describe("a primer's part of the schema", () => {
  const Step = defineInput<{ by: number }>("SchemaTestStep", (t) => ({
    by: t.int({ required: true }),
  }));
  const primer = (name: string) =>
    definePrimer({
      name,
      params: { id: param.int(), label: param.string() },
      type: "Int",
      compute: () => 0,
      augment: { delta: Step, reduce: (value, { by }) => value + by },
    });
  const first = primer("schemaTestFirst");
  const second = primer("schemaTestSecond");

  it("gives its query, subscription and augment fields the same param arguments", () => {
    const schema = buildSchema([first]);
    // Sorted, as the schema is.
    const args = (field: { args: readonly { name: string; type: unknown }[] } | undefined) =>
      (field?.args ?? []).map((arg) => `${arg.name}: ${String(arg.type)}`).sort();
    const params = ["id: Int!", "label: String!"];
    expect(args(schema.getQueryType()?.getFields()["schemaTestFirst"])).toEqual(params);
    expect(args(schema.getSubscriptionType()?.getFields()["schemaTestFirst"])).toEqual(
      [...params, "sinceVersion: Int"].sort(),
    );
    expect(args(schema.getMutationType()?.getFields()["augmentSchemaTestFirst"])).toEqual(
      [
        ...params,
        "delta: SchemaTestStep!",
        "expectedVersion: Int",
        "idempotencyKey: String",
      ].sort(),
    );
  });

  it("shares one delta input type between primers, in every schema built", () => {
    for (const schema of [buildSchema([first, second]), buildSchema([second, first])]) {
      const mutations = schema.getMutationType()?.getFields() ?? {};
      const deltaOf = (field: string) =>
        mutations[field]?.args.find((arg) => arg.name === "delta")?.type;
      expect(String(deltaOf("augmentSchemaTestFirst"))).toBe("SchemaTestStep!");
      expect(deltaOf("augmentSchemaTestSecond")).toEqual(deltaOf("augmentSchemaTestFirst"));
      expect(schema.getType("SchemaTestStep")).toBeDefined();
    }
  });
});
