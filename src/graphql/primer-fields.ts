import type { AnyPrimer } from "../primer/define-primer.ts";
import type { KckBuilder } from "./builder.ts";

/** Adds one query field per primer: its params as required arguments, its value as result. */
export function addPrimerFields(builder: KckBuilder, primers: readonly AnyPrimer[]): void {
  for (const primer of primers) {
    builder.queryField(primer.name, (t) =>
      t.field({
        type: primer.type,
        // Nullable so that one failing product nulls its own field, not the whole operation.
        nullable: true,
        ...(primer.description ? { description: primer.description } : {}),
        args: Object.fromEntries(
          primer.paramNames.map((name) => [
            name,
            t.arg({ type: primer.params[name].scalar, required: true }),
          ]),
        ),
        resolve: async (_root, args, ctx) => {
          const product = await ctx.products.load(ctx.kck.resolve(primer, args));
          return product.value as never;
        },
      }),
    );
  }
}
