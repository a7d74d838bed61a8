import { type GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { loadPrimers } from "../load-primers.ts";
import { buildSchema } from "./schema.ts";

/** The schema `npm start` serves: the one built from the primers folder. */
export async function servedSchema(primersDir = "primers"): Promise<GraphQLSchema> {
  return buildSchema((await loadPrimers(primersDir)).primers);
}

/** A schema printed as sorted SDL, the form kept in schema/schema.graphql. */
export function printSorted(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
