import { readFile } from "node:fs/promises";
import { buildSchema as buildFromSdl, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { printSorted, servedSchema } from "../src/graphql/schema-file.ts";

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
