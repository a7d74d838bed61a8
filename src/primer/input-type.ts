import type { InputFieldsFromShape } from "@pothos/core";
import type { KckSchemaTypes } from "../types.ts";

/** The field builder a delta's input type receives. */
export type InputFieldBuilder = PothosSchemaTypes.InputFieldBuilder<KckSchemaTypes, "InputObject">;

/** The input fields of a shape: one Pothos input field ref per property. */
export type InputFields<Shape> = InputFieldsFromShape<KckSchemaTypes, Shape, "InputObject">;

/**
 * A GraphQL input object type that a primer's delta arrives as. It is only a definition: each
 * schema KCK builds makes its own Pothos ref from it (a Pothos ref belongs to one builder), so
 * one definition serves every schema, as {@link defineObject}'s classes do for outputs.
 */
export interface KckInput<Shape> {
  /** Marks an input definition. */
  readonly kind: "input";
  readonly name: string;
  readonly description: string | undefined;
  readonly fields: (t: InputFieldBuilder) => InputFields<Shape>;
  /** Carries the shape's type for inference; never set at run time. */
  readonly shape?: Shape;
}

const defined = new Map<string, KckInput<unknown>>();

/**
 * Declares a GraphQL input object type, such as a primer's augment delta. Shape is the
 * TypeScript type of the value a resolver receives; the fields say how it is sent, and must
 * match the shape (a required field for a required property).
 *
 * @example
 * const SaleInput = defineInput<{ bookId: number; quantity: number }>("SaleInput", (t) => ({
 *   bookId: t.int({ required: true }),
 *   quantity: t.int({ required: true }),
 * }));
 */
export function defineInput<Shape>(
  name: string,
  fields: (t: InputFieldBuilder) => InputFields<Shape>,
  options: { description?: string } = {},
): KckInput<Shape> {
  if (defined.has(name)) {
    throw new Error(`An input type named "${name}" is already defined; type names must be unique.`);
  }
  const input: KckInput<Shape> = {
    kind: "input",
    name,
    description: options.description,
    fields,
  };
  defined.set(name, input as KckInput<unknown>);
  return input;
}

/** How many input types are defined so far: a mark for {@link forgetInputsSince}. */
export function inputsMark(): number {
  return defined.size;
}

/**
 * Forgets the input types defined after `mark` (`kck dev`, before it runs the primer modules
 * again, whose `defineInput` calls then define them anew).
 */
export function forgetInputsSince(mark: number): void {
  for (const name of [...defined.keys()].slice(mark)) defined.delete(name);
}
