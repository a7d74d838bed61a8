import type { AnyPrimer } from "../primer/define-primer.ts";
import type { KckBuilder } from "./builder.ts";
import type { ProductUpdate, UpdateTypes } from "./update-types.ts";

/**
 * Adds one subscription field per primer, with the query field's arguments and an optional
 * `sinceVersion`: the current version first (unless the client already saw it), then every
 * newer one, from any instance.
 */
export function addSubscriptionFields(
  builder: KckBuilder,
  primers: readonly AnyPrimer[],
  updates: UpdateTypes,
): void {
  builder.subscriptionType({});
  for (const primer of primers) {
    const type = updates.get(primer.name);
    if (type === undefined) continue;
    builder.subscriptionField(primer.name, (t) =>
      t.field({
        type,
        description: `Every new version of a ${primer.name} product, the current one first.`,
        args: {
          ...Object.fromEntries(
            primer.paramNames.map((name) => [
              name,
              t.arg({ type: primer.params[name].scalar, required: true }),
            ]),
          ),
          sinceVersion: t.arg.int({
            description:
              "The last version this client saw (when it reconnects): older or equal versions are not sent again.",
          }),
        },
        subscribe: (_root, args, ctx) =>
          ctx.hub.subscribe(
            ctx.kck.resolve(primer, args),
            (args["sinceVersion"] as number | null | undefined) ?? undefined,
            ctx.admitNew,
          ),
        resolve: (update: ProductUpdate) => update,
      }),
    );
  }
}
