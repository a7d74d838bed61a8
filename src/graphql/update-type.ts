import { notFoundError } from "../engine/not-found.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import type { KckSchemaTypes, ProductUpdate } from "../types.ts";
import type { KckBuilder } from "./builder.ts";

/** A primer's update type in one schema. */
export type UpdateType = PothosSchemaTypes.ObjectRef<KckSchemaTypes, ProductUpdate>;

/** The GraphQL name of a primer's update type: `titleList` gives `TitleListUpdate`. */
function updateTypeName(primer: AnyPrimer): string {
  return `${primer.name[0]?.toUpperCase() ?? ""}${primer.name.slice(1)}Update`;
}

/** Adds a primer's update type: `{ key, version, value }`, value typed as the primer's. */
export function addUpdateType(builder: KckBuilder, primer: AnyPrimer): UpdateType {
  return builder.objectRef<ProductUpdate>(updateTypeName(primer)).implement({
    description: `One version of a ${primer.name} product.`,
    fields: (t) => ({
      key: t.exposeString("key", { description: "The product's key." }),
      version: t.exposeInt("version", {
        description: "Grows by one each time the value changes.",
      }),
      value: t.field({
        type: primer.type,
        nullable: primer.nullable,
        resolve: (update) => {
          if (update.notFound != null) throw notFoundError(update);
          return update.value as never;
        },
      }),
    }),
  });
}
