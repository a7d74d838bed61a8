import {
  type GraphQLOutputType,
  type GraphQLSchema,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from "graphql";
import type { ValueCheck } from "../engine/ports.ts";
import { KckError } from "../errors.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";

/** Where a value does not fit its type, and how. */
export interface Misfit {
  /** The path in the value: `value`, `value[3].title`. */
  readonly path: string;
  /** What the type asks for there: `String!`, `a list of Title!`. */
  readonly expected: string;
  /** What was found: `null`, `nothing (the field is missing)`, `an object`, `"abc"`. */
  readonly got: string;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Whether a field's value is the parent's property of its name (so it can be checked here). */
function readsProperty(field: { resolve?: unknown; extensions?: unknown }): string | undefined {
  const exposed = (field.extensions as { pothosExposedField?: unknown } | undefined)
    ?.pothosExposedField;
  if (typeof exposed === "string") return exposed;
  return field.resolve === undefined ? "" : undefined;
}

/** A misfit found below a position: its path from there (segments reversed) and the rest. */
interface Found {
  readonly reversedPath: string[];
  readonly expected: string;
  readonly got: string;
}

type Check = (value: unknown) => Found | undefined;

/** The checker of a GraphQL output type, compiled once per type by whoever holds it. */
type Compile = (type: GraphQLOutputType) => Check;

const found = (expected: string, value: unknown): Found => ({
  reversedPath: [],
  expected,
  got: describe(value),
});

function build(type: GraphQLOutputType, compile: Compile): Check {
  if (isNonNullType(type)) {
    const item = compile(type.ofType);
    const expected = String(type);
    return (value) =>
      value === null || value === undefined ? found(expected, value) : item(value);
  }
  if (isListType(type)) {
    const item = compile(type.ofType);
    const expected = `a list of ${String(type.ofType)}`;
    return (value) => {
      if (value === null || value === undefined) return undefined;
      if (!Array.isArray(value)) return found(expected, value);
      for (let i = 0; i < value.length; i++) {
        const misfit = item(value[i]);
        if (misfit) {
          misfit.reversedPath.push(`[${i}]`);
          return misfit;
        }
      }
      return undefined;
    };
  }
  if (isScalarType(type) || isEnumType(type)) {
    const { name } = type;
    return (value) => {
      if (value === null || value === undefined) return undefined;
      try {
        type.serialize(value);
        return undefined;
      } catch {
        return found(name, value);
      }
    };
  }
  if (isObjectType(type)) {
    const expected = `an object ${type.name}`;
    let fields: { name: string; property: string; check: Check }[] | undefined;
    return (value) => {
      if (value === null || value === undefined) return undefined;
      if (typeof value !== "object" || Array.isArray(value)) return found(expected, value);
      fields ??= Object.values(type.getFields()).flatMap((field) => {
        const property = readsProperty(field);
        return property === undefined
          ? []
          : [{ name: field.name, property: property || field.name, check: compile(field.type) }];
      });
      for (const field of fields) {
        const misfit = field.check((value as Record<string, unknown>)[field.property]);
        if (misfit) {
          misfit.reversedPath.push(`.${field.name}`);
          return misfit;
        }
      }
      return undefined;
    };
  }
  // Interfaces and unions: the concrete type is decided elsewhere.
  return () => undefined;
}

/**
 * Checks a value against a GraphQL output type as the gateway will serialize it: non-null
 * positions hold a value, lists are arrays, scalars and enums serialize, objects are objects
 * whose exposed fields fit in turn. Fields with their own resolver, interfaces and unions are
 * not checked (their values come from elsewhere). Returns the first misfit, or undefined.
 */
export type FindMisfit = (type: GraphQLOutputType, value: unknown) => Misfit | undefined;

/**
 * Makes a {@link FindMisfit} that compiles a checker for each type it meets, once, and keeps
 * it as long as the type lives (object types refer to themselves through their fields: a
 * type's entry is filled before its fields are compiled). The path is built only when a misfit
 * is found, so a large fitting value costs only the walk.
 */
export function misfitFinder(): FindMisfit {
  const compiled = new WeakMap<GraphQLOutputType, Check>();
  const compile: Compile = (type) => {
    const cached = compiled.get(type);
    if (cached) return cached;
    let inner: Check = () => undefined;
    const check: Check = (value) => inner(value);
    compiled.set(type, check);
    inner = build(type, compile);
    return check;
  };
  return (type, value) => {
    const misfit = compile(type)(value);
    if (misfit === undefined) return undefined;
    const path = `value${misfit.reversedPath.reverse().join("")}`;
    return { path, expected: misfit.expected, got: misfit.got };
  };
}

/**
 * Checks computed values against their primers' GraphQL types: the engine's value-check port
 * (src/engine/ports.ts), supplied by the composition root. Given no schema, it builds one from
 * the primers (loading the schema's modules) on the first check, so commands that never
 * compute do not pay for it.
 */
export class ValueChecker implements ValueCheck {
  private types: Promise<Map<string, GraphQLOutputType>> | undefined;
  private readonly findMisfit = misfitFinder();

  /** `schema`: the one KCK serves for these primers, when it is built already. */
  constructor(
    private readonly primers: readonly AnyPrimer[],
    schema?: GraphQLSchema,
  ) {
    if (schema) this.types = Promise.resolve(typesOf(schema));
  }

  /** Throws COMPUTE_FAILED naming the path and the expected type when `value` does not fit. */
  async check(primer: AnyPrimer, key: string, value: unknown): Promise<void> {
    const type = await this.typeOf(primer);
    if (type === undefined) return;
    const misfit = this.findMisfit(type, value);
    if (misfit === undefined) return;
    throw new KckError(
      "COMPUTE_FAILED",
      `the value does not fit its type ${String(type)}: at ${misfit.path} expected ${misfit.expected}, got ${misfit.got}. Nothing was stored for ${key}; the last good value stays.`,
    );
  }

  private async typeOf(primer: AnyPrimer): Promise<GraphQLOutputType | undefined> {
    this.types ??= import("./schema.ts").then(({ buildSchema }) =>
      typesOf(buildSchema(this.primers)),
    );
    // The primer's query field: nullable at the top (one failing product nulls only its own
    // field), and below that exactly the type the primer declared.
    return (await this.types).get(primer.name);
  }
}

function typesOf(schema: GraphQLSchema): Map<string, GraphQLOutputType> {
  const fields = schema.getQueryType()?.getFields() ?? {};
  const types = new Map<string, GraphQLOutputType>();
  for (const [name, field] of Object.entries(fields)) types.set(name, field.type);
  return types;
}
