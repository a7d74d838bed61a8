import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS and ESM without an exports map: Node loads the CJS one for yoga and
    // Pothos, so the tests must too, or GraphQLError would be two different classes.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
    // `import ... from "kck"` in the repository's primers is the source, not the built dist/.
    conditions: ["kck-source", "module", "node", "development|production"],
  },
  ssr: { resolve: { conditions: ["kck-source", "module", "node", "development|production"] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file gets its own database; files run in parallel on the machine's two cores.
    fileParallelism: true,
  },
});
