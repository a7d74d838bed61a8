import type { AnyPrimer } from "../primer/define-primer.ts";
import type { InputFields, KckInput } from "../primer/input-type.ts";
import type { ProductUpdate, StoredProduct } from "../types.ts";
import type { KckBuilder } from "./builder.ts";
import { addUpdateType } from "./update-type.ts";

/**
 * Adds one primer's part of the schema: its query field, its update type and subscription
 * field, and its `augment<Primer>` mutation when it declares `augment`. The three fields take
 * the primer's params as the same arguments ({@link paramArgs}).
 */
export function addPrimer(builder: KckBuilder, primer: AnyPrimer): void {
  const params = paramArgs(builder, primer);
  const update = addUpdateType(builder, primer);

  builder.queryField(primer.name, (t) =>
    t.field({
      type: primer.type,
      // Nullable so that one failing product nulls its own field, not the whole operation.
      nullable: true,
      ...(primer.description ? { description: primer.description } : {}),
      args: params,
      resolve: async (_root, args, ctx) => {
        const product = await ctx.products.load(ctx.kck.resolve(primer, args));
        return product.value as never;
      },
    }),
  );

  builder.subscriptionField(primer.name, (t) =>
    t.field({
      type: update,
      description: `Every new version of a ${primer.name} product, the current one first.`,
      args: {
        ...params,
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

  if (primer.augment === undefined) return;
  const delta = deltaInput(builder, primer.augment.delta);
  builder.mutationField(augmentFieldName(primer), (t) =>
    t.field({
      type: update,
      description: `Applies one delta to a ${primer.name} product in place (computing it first if it is missing) and returns the stored version. With expectedVersion, a product at another version is left as is and the error's code is CONFLICT.`,
      args: {
        ...params,
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
          await ctx.kck.augment(primer, args, args["delta"], {
            expectedVersion: (args["expectedVersion"] as number | null | undefined) ?? undefined,
            idempotencyKey: (args["idempotencyKey"] as string | null | undefined) ?? undefined,
          }),
        ),
    }),
  );
}

/**
 * A primer's params as GraphQL arguments, in key order, each required and of its param's
 * scalar: the arguments of its query, subscription and augment fields alike.
 */
function paramArgs(builder: KckBuilder, primer: AnyPrimer) {
  return builder.args((t) =>
    Object.fromEntries(
      primer.paramNames.map((name) => [
        name,
        t.field({ type: primer.params[name].scalar, required: true }),
      ]),
    ),
  );
}

/** The GraphQL name of a primer's augment mutation: `salesTotals` gives `augmentSalesTotals`. */
function augmentFieldName(primer: AnyPrimer): string {
  return `augment${primer.name[0]?.toUpperCase() ?? ""}${primer.name.slice(1)}`;
}

/** The update a mutation returns for a stored product. */
function toUpdate(product: StoredProduct): ProductUpdate {
  return { key: product.key, version: product.version, value: product.value };
}

/**
 * A delta's input type in this schema. One definition may serve several primers, and every
 * schema KCK builds: the first primer of a schema that takes it implements it, and binds the
 * definition to that ref in this builder (as Pothos binds a `defineObject` class), so the
 * others find it there and Pothos resolves the definition to it wherever it is a type.
 */
function deltaInput(builder: KckBuilder, input: KckInput<unknown>): never {
  const types = builder.configStore;
  if (!types.hasConfig(input as never)) {
    const ref = builder.inputRef<object, false>(input.name).implement({
      ...(input.description ? { description: input.description } : {}),
      fields: input.fields as (t: unknown) => InputFields<object>,
    });
    types.associateParamWithRef(input as never, ref);
  }
  return input as never;
}
