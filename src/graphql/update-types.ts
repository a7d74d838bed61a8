import { notFoundError } from "../engine/not-found.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import type { KckBuilder } from "./builder.ts";
import type { KckSchemaTypes } from "./schema-types.ts";

/** One version of a product, as subscriptions deliver it and augment mutations return it. */
export interface ProductUpdate {
  readonly key: string;
  readonly version: number;
  readonly value: unknown;
  /** Set when this version says the product does not exist: its NOT_FOUND message. */
  readonly notFound?: string | null;
}

/** The update type of each primer, by primer name, in one schema. */
export type UpdateTypes = ReadonlyMap<
  string,
  PothosSchemaTypes.ObjectRef<KckSchemaTypes, ProductUpdate>
>;

/** The GraphQL name of a primer's update type: `titleList` gives `TitleListUpdate`. */
export function updateTypeName(primer: AnyPrimer): string {
  return `${primer.name[0]?.toUpperCase() ?? ""}${primer.name.slice(1)}Update`;
}

/** Adds one update type per primer: `{ key, version, value }`, value typed as the primer's. */
export function addUpdateTypes(builder: KckBuilder, primers: readonly AnyPrimer[]): UpdateTypes {
  const types = new Map<string, PothosSchemaTypes.ObjectRef<KckSchemaTypes, ProductUpdate>>();
  for (const primer of primers) {
    const ref = builder.objectRef<ProductUpdate>(updateTypeName(primer)).implement({
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
    types.set(primer.name, ref);
  }
  return types;
}
