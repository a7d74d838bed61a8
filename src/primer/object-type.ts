import type { KckSchemaTypes } from "../types.ts";

/** The field builder a primer's object type receives. */
export type FieldBuilder<Shape> = PothosSchemaTypes.ObjectFieldBuilder<KckSchemaTypes, Shape>;

/** The fields of an object type, as Pothos field refs. */
export type Fields = Record<string, PothosSchemaTypes.FieldRef<KckSchemaTypes, unknown, "Object">>;

/** What KCK needs to implement an object type in a schema. */
export interface ObjectDefinition<Shape> {
  readonly name: string;
  readonly description: string | undefined;
  readonly fields: (t: FieldBuilder<Shape>) => Fields;
}

/**
 * A GraphQL object type that primers can return or nest. Pothos accepts a class as a type
 * param and binds it to a fresh ref in each builder, so one definition serves every schema KCK
 * builds (a Pothos ref, by contrast, belongs to one builder).
 */
export type KckObject<Shape> = Constructor<Shape> & {
  readonly definition: ObjectDefinition<Shape>;
};

// biome-ignore lint/suspicious/noExplicitAny: the constructor form Pothos takes as a type param
type Constructor<Shape> = new (...args: any[]) => Shape;

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
    throw new Error(
      `An object type named "${name}" is already defined; type names must be unique.`,
    );
  }
  const object = class {} as unknown as KckObject<Shape>;
  Object.defineProperty(object, "name", { value: name });
  Object.defineProperty(object, "definition", {
    value: { name, description: options.description, fields },
  });
  defined.set(name, object as KckObject<unknown>);
  return object;
}

/** Every object type defined so far in this process, in definition order. */
export function definedObjects(): readonly KckObject<unknown>[] {
  return [...defined.values()];
}

/** How many object types are defined so far: a mark for {@link forgetObjectsSince}. */
export function objectsMark(): number {
  return defined.size;
}

/**
 * Forgets the object types defined after `mark` (`kck dev`, before it runs the primer modules
 * again, whose `defineObject` calls then define them anew).
 */
export function forgetObjectsSince(mark: number): void {
  for (const name of [...defined.keys()].slice(mark)) defined.delete(name);
}
