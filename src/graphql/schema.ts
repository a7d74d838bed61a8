import type { GraphQLSchema } from "graphql";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { definedObjects } from "../primer/object-type.ts";
import { createBuilder } from "./builder.ts";
import { addMutations } from "./mutations.ts";
import { addPrimer } from "./primer-fields.ts";
import { addProductType } from "./product-type.ts";
import { addScalars } from "./scalars.ts";

/** Builds the gateway's GraphQL schema for a set of primers. */
export function buildSchema(primers: readonly AnyPrimer[]): GraphQLSchema {
  const builder = createBuilder();
  builder.queryType({});
  builder.mutationType({});
  builder.subscriptionType({});
  addScalars(builder);
  for (const object of definedObjects()) {
    const { name, description, fields } = object.definition;
    builder.objectType(object, { name, ...(description ? { description } : {}), fields });
  }
  const Product = addProductType(builder);
  addMutations(builder, Product);
  for (const primer of primers) addPrimer(builder, primer);
  return builder.toSchema({ sortSchema: true });
}
