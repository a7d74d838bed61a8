import { ObjectRef } from "@pothos/core";
import type { KckSchemaTypes } from "../graphql/schema-types.ts";

/** The field builder a primer's object type receives. */
export type FieldBuilder<Shape> = PothosSchemaTypes.ObjectFieldBuilder<KckSchemaTypes, Shape>;

/** The fields of an object type, as Pothos field refs. */
export type Fields = Record<string, PothosSchemaTypes.FieldRef<KckSchemaTypes, unknown, "Object">>;

/**
 * A GraphQL object type that primers can return or nest. It is a Pothos ObjectRef, so it can be
 * used wherever Pothos takes a type; KCK implements it in every schema it builds.
 */
export class KckObject<Shape> extends ObjectRef<KckSchemaTypes, Shape> {
  constructor(
    name: string,
    /** Builds the type's fields. */
    readonly buildFields: (t: FieldBuilder<Shape>) => Fields,
    /** Shown in the schema. */
    readonly typeDescription: string | undefined,
  ) {
    super(name);
  }
}

const defined = new Map<string, KckObject<unknown>>();

/**
 * Declares a GraphQL object type for primer values. Shape is the TypeScript type of the value;
 * the fields say how it is exposed.
 *
 * @example
 * const Title = defineObject<{ title: string }>("Title", (t) => ({ title: t.exposeString("title") }));
 */
export function defineObject<Shape>(
  name: string,
  fields: (t: FieldBuilder<Shape>) => Fields,
  options: { description?: string } = {},
): KckObject<Shape> {
  if (defined.has(name)) {
    throw new Error(`An object type named "${name}" is already defined; type names must be unique.`);
  }
  const ref = new KckObject<Shape>(name, fields, options.description);
  defined.set(name, ref as KckObject<unknown>);
  return ref;
}

/** Every object type defined so far in this process, in definition order. */
export function definedObjects(): readonly KckObject<unknown>[] {
  return [...defined.values()];
}
