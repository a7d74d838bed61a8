import type { StoredProduct } from "../engine/product.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import type { InputFields, KckInput } from "../primer/input-type.ts";
import type { KckBuilder } from "./builder.ts";
import type { KckSchemaTypes } from "./schema-types.ts";
import type { ProductUpdate, UpdateTypes } from "./update-types.ts";

type InputRef = PothosSchemaTypes.InputObjectRef<KckSchemaTypes, unknown>;

/** The GraphQL name of a primer's augment mutation: `salesTotals` gives `augmentSalesTotals`. */
export function augmentFieldName(primer: AnyPrimer): string {
  return `augment${primer.name[0]?.toUpperCase() ?? ""}${primer.name.slice(1)}`;
}

/** The update a mutation returns for a stored product. */
export function toUpdate(product: StoredProduct): ProductUpdate {
  return { key: product.key, version: product.version, value: product.value };
}

/**
 * Adds an `augment<Primer>` mutation for each primer that declares `augment`: its params, the
 * typed `delta`, an optional `expectedVersion` and an optional `idempotencyKey`; it returns the
 * stored version.
 */
export function addAugmentFields(
  builder: KckBuilder,
  primers: readonly AnyPrimer[],
  updates: UpdateTypes,
): void {
  // Input definitions are shared between primers and schemas; refs belong to this builder.
  const inputs = new Map<KckInput<unknown>, InputRef>();
  const inputRef = (input: KckInput<unknown>): InputRef => {
    let ref = inputs.get(input);
    if (ref === undefined) {
      ref = builder.inputRef<object, false>(input.name).implement({
        ...(input.description ? { description: input.description } : {}),
        fields: input.fields as (t: unknown) => InputFields<object>,
      }) as InputRef;
      inputs.set(input, ref);
    }
    return ref;
  };
  for (const primer of primers) {
    const type = updates.get(primer.name);
    if (primer.augment === undefined || type === undefined) continue;
    const delta = inputRef(primer.augment.delta);
    builder.mutationField(augmentFieldName(primer), (t) =>
      t.field({
        type,
        description: `Applies one delta to a ${primer.name} product in place (computing it first if it is missing) and returns the stored version. With expectedVersion, a product at another version is left as is and the error's code is CONFLICT.`,
        args: {
          ...Object.fromEntries(
            primer.paramNames.map((name) => [
              name,
              t.arg({ type: primer.params[name].scalar, required: true }),
            ]),
          ),
          delta: t.arg({ type: delta, required: true }),
          expectedVersion: t.arg.int({
            description: "Apply the delta only if the product is at this version.",
          }),
          idempotencyKey: t.arg.string({
            description:
              "Makes a retry safe: an augment of this product with the same key that already committed (in the last day) is not applied again, and the retry gets the product as it stands. One per augment (a UUID, say), up to 200 characters.",
          }),
        },
        resolve: async (_root, args, ctx) =>
          toUpdate(
            await ctx.kck.augment(primer, args as never, args["delta"] as never, {
              expectedVersion: (args["expectedVersion"] as number | null | undefined) ?? undefined,
              idempotencyKey: (args["idempotencyKey"] as string | null | undefined) ?? undefined,
            }),
          ),
      }),
    );
  }
}
