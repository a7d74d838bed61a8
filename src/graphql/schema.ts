import type { GraphQLSchema } from "graphql";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { definedObjects } from "../primer/object-type.ts";
import { addAugmentFields } from "./augment-fields.ts";
import { createBuilder } from "./builder.ts";
import { addMutations } from "./mutations.ts";
import { addPrimerFields } from "./primer-fields.ts";
import { addProductType } from "./product-type.ts";
import { addScalars } from "./scalars.ts";
import { addSubscriptionFields } from "./subscription-fields.ts";
import { addUpdateTypes } from "./update-types.ts";

/** Builds the gateway's GraphQL schema for a set of primers. */
export function buildSchema(primers: readonly AnyPrimer[]): GraphQLSchema {
  const builder = createBuilder();
  builder.queryType({});
  builder.mutationType({});
  addScalars(builder);
  for (const object of definedObjects()) {
    const { name, description, fields } = object.definition;
    builder.objectType(object, { name, ...(description ? { description } : {}), fields });
  }
  const Product = addProductType(builder);
  addMutations(builder, Product);
  addPrimerFields(builder, primers);
  const updates = addUpdateTypes(builder, primers);
  addSubscriptionFields(builder, primers, updates);
  addAugmentFields(builder, primers, updates);
  return builder.toSchema({ sortSchema: true });
}
