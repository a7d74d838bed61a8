import SchemaBuilder from "@pothos/core";
import type { KckSchemaTypes } from "../types.ts";

/** The Pothos builder of one KCK schema. */
export type KckBuilder = PothosSchemaTypes.SchemaBuilder<KckSchemaTypes>;

/** Creates an empty builder; each schema gets its own, so that tests can build many. */
export function createBuilder(): KckBuilder {
  return new SchemaBuilder<KckSchemaTypes>({ defaultFieldNullability: false });
}
