import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * `npm run codegen`: prints the served schema to schema/schema.graphql (sorted) and writes typed
 * client operations for schema/operations/*.graphql to schema/generated/.
 */
const config: CodegenConfig = {
  schema: { "kck-served-schema": { loader: "./schema/served-schema.ts" } },
  documents: "schema/operations/*.graphql",
  importExtension: ".ts",
  generates: {
    "schema/schema.graphql": {
      plugins: ["schema-ast"],
      config: { sort: true, includeDirectives: false },
    },
    "schema/generated/": {
      preset: "client",
      config: { useTypeImports: true },
    },
  },
};

export default config;
