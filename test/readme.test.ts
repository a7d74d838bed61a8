import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type DocumentNode, Kind, parse, validate } from "graphql";
import { afterAll, beforeAll, expect, it } from "vitest";
import { servedSchema } from "../src/graphql/schema-file.ts";
import { ROOT } from "./helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/db.ts";

// README.md cannot rot: its GraphQL snippets are checked against the schema the demo serves, and
// its "Using the cache from code" snippet runs as written.

let readme: string;
let database: TestDatabase;

beforeAll(async () => {
  readme = await readFile(join(ROOT, "README.md"), "utf8");
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

/** The fenced code blocks of one language, in order. */
const blocks = (text: string, language: string): string[] =>
  [...text.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))].map(
    (m) => m[1] ?? "",
  );

it("every GraphQL snippet in README.md is valid against the served schema", async () => {
  const schema = await servedSchema(join(ROOT, "primers"));
  const snippets = blocks(readme, "graphql");
  expect(snippets.length).toBeGreaterThanOrEqual(2);
  const problems: string[] = [];
  for (const snippet of snippets) {
    const document = parse(snippet);
    // Each operation on its own: a snippet may show a subscription and a mutation side by side.
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const one: DocumentNode = {
        kind: Kind.DOCUMENT,
        definitions: [
          definition,
          ...document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION),
        ],
      };
      for (const error of validate(schema, one)) problems.push(`${error.message}\n${snippet}`);
    }
  }
  expect(problems).toEqual([]);
});

it('runs the "Using the cache from code" snippet as written, on a new database', async () => {
  const section = readme.slice(readme.indexOf("## Using the cache from code"));
  const code = blocks(section, "ts")[0];
  expect(code).toContain("createApp");
  // Next to README.md, so that its relative imports resolve as they read.
  const file = join(ROOT, `readme-snippet-${randomBytes(4).toString("hex")}.ts`);
  await writeFile(file, code ?? "");
  try {
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ["--conditions=kck-source", "--import", "tsx", file],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url, KCK_POOL_SIZE: "2" } },
    );
    expect(stderr).toBe("");
  } finally {
    await rm(file, { force: true });
  }
});
