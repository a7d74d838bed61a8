/** The files `kck init` writes, by path relative to the project folder. */
export const INIT_FILES: Readonly<Record<string, string>> = {
  "primers/greetings.ts": `import { defineObject, definePrimer, KckError, param, type Queryable } from "kck";

/** Creates and seeds the table this primer reads; runs at every start, so it is idempotent. */
export async function setup(db: Queryable): Promise<void> {
  await db.query(
    "create table if not exists greetings (id int primary key, language text not null, text text not null)",
  );
  await db.query(
    \`insert into greetings (id, language, text) values
       (1, 'en', 'Hello'), (2, 'fr', 'Bonjour'), (3, 'de', 'Hallo')
     on conflict (id) do nothing\`,
  );
}

interface Greeting {
  language: string;
  text: string;
}

const GreetingType = defineObject<Greeting>("Greeting", (t) => ({
  language: t.exposeString("language"),
  text: t.exposeString("text"),
}));

/** One greeting, computed from the greetings table and refreshed when its row changes. */
export const greeting = definePrimer({
  name: "greeting",
  description: "One greeting, by id.",
  params: { id: param.int() },
  type: GreetingType,
  sources: [{ table: "greetings", params: { id: "id" } }],
  async compute({ id }, ctx) {
    const [row] = await ctx.sql<Greeting>("select language, text from greetings where id = $1", [id]);
    if (row === undefined) throw new KckError("COMPUTE_FAILED", \`There is no greeting \${id}.\`);
    return row;
  },
});
`,
  "tsconfig.json": `${JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noImplicitOverride: true,
        verbatimModuleSyntax: true,
        allowImportingTsExtensions: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
      },
      include: ["primers"],
    },
    null,
    2,
  )}\n`,
  ".gitignore": "node_modules/\n# The embedded PostgreSQL's data (KCK_DATA_DIR).\n.kck/\n",
};

/** The scripts `kck init` adds to package.json. */
export const INIT_SCRIPTS: Readonly<Record<string, string>> = {
  dev: "kck dev",
  start: "kck serve",
  typecheck: "tsc",
};

/** The development dependencies `kck init` adds to package.json (for `npm run typecheck`). */
export const INIT_DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  typescript: "^7.0.2",
  "@types/node": "^20.19.43",
};
