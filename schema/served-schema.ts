// A graphql-codegen schema loader (see codegen.ts): builds the schema `npm start` serves from
// the primers folder. Codegen loads this file as CommonJS, so the ESM code is imported here.
export default async function loadServedSchema() {
  const { servedSchema } = await import("../src/graphql/schema-file.ts");
  return servedSchema(process.env["KCK_PRIMERS_DIR"] || "primers");
}
