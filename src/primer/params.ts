import { KckError } from "../errors.ts";

/** The GraphQL scalar a param is exposed as. */
export type ParamScalar = "Int" | "BigInt" | "Float" | "String" | "Boolean" | "ID";

/**
 * How one primer param travels: its GraphQL argument type, and its exact string form inside a
 * key. `parse(format(v))` equals `v` for every valid value.
 */
export interface ParamType<T> {
  readonly scalar: ParamScalar;
  /** Turns a decoded key segment into the value; throws a message on a bad one. */
  parse(segment: string): T;
  /** Turns a value into its key segment (before percent-encoding). */
  format(value: T): string;
  /** Checks a value that arrived from code or GraphQL; returns a message when it is bad. */
  check(value: unknown): string | undefined;
}

/** The value type of a ParamType. */
export type ParamValue<P> = P extends ParamType<infer T> ? T : never;

/** A primer's declared params, in key order. */
export type ParamsSpec = Record<string, ParamType<unknown>>;

/** The params object a primer's compute receives. */
export type ParamsOf<S extends ParamsSpec> = { readonly [K in keyof S]: ParamValue<S[K]> };

const INT = /^-?(0|[1-9]\d*)$/;

const int: ParamType<number> = {
  scalar: "Int",
  parse(segment) {
    const n = Number(segment);
    if (!INT.test(segment) || !Number.isSafeInteger(n) || Object.is(n, -0)) {
      throw new Error("expected a whole number written in decimal without leading zeros");
    }
    return n;
  },
  format: (value) => String(value),
  check: (value) =>
    typeof value === "number" && Number.isSafeInteger(value)
      ? undefined
      : "expected a whole number",
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const bigint: ParamType<bigint> = {
  scalar: "BigInt",
  parse(segment) {
    const n = INT.test(segment) && segment !== "-0" ? BigInt(segment) : undefined;
    if (n === undefined || n < INT64_MIN || n > INT64_MAX) {
      throw new Error("expected a 64-bit whole number written in decimal without leading zeros");
    }
    return n;
  },
  format: (value) => String(value),
  check: (value) =>
    typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX
      ? undefined
      : "expected a 64-bit whole number (a bigint)",
};

const float: ParamType<number> = {
  scalar: "Float",
  parse(segment) {
    const n = Number(segment);
    if (
      segment.trim() !== segment ||
      segment === "" ||
      !Number.isFinite(n) ||
      String(n) !== segment
    ) {
      throw new Error("expected a finite number in its shortest form, such as 1.5");
    }
    return n;
  },
  format: (value) => String(value),
  check: (value) =>
    typeof value === "number" && Number.isFinite(value) ? undefined : "expected a finite number",
};

const string: ParamType<string> = {
  scalar: "String",
  parse: (segment) => segment,
  format: (value) => value,
  check: (value) => (typeof value === "string" ? undefined : "expected a string"),
};

const boolean: ParamType<boolean> = {
  scalar: "Boolean",
  parse(segment) {
    if (segment === "true") return true;
    if (segment === "false") return false;
    throw new Error('expected "true" or "false"');
  },
  format: (value) => String(value),
  check: (value) => (typeof value === "boolean" ? undefined : "expected true or false"),
};

/** The param types a primer can declare. */
export const param = {
  /** A whole number (GraphQL `Int`). */
  int: (): ParamType<number> => int,
  /**
   * A 64-bit whole number, a `bigint` in code (GraphQL `BigInt`, written as a decimal string
   * so that clients whose numbers are doubles keep every digit).
   */
  bigint: (): ParamType<bigint> => bigint,
  /** A finite number (GraphQL `Float`). */
  float: (): ParamType<number> => float,
  /** Any string, `/` and unicode included (GraphQL `String`). */
  string: (): ParamType<string> => string,
  /** An opaque identifier, kept as a string (GraphQL `ID`). */
  id: (): ParamType<string> => ({ ...string, scalar: "ID" }),
  /** `true` or `false` (GraphQL `Boolean`). */
  boolean: (): ParamType<boolean> => boolean,
};

/** Throws BAD_PARAM unless `params` holds a valid value for every declared param. */
export function checkParams(
  primer: string,
  spec: ParamsSpec,
  params: Record<string, unknown>,
): void {
  for (const [name, type] of Object.entries(spec)) {
    const problem = type.check(params[name]);
    if (problem !== undefined) {
      throw new KckError(
        "BAD_PARAM",
        `Primer "${primer}" param "${name}": ${problem}, but got ${describe(params[name])}.`,
      );
    }
  }
}

/** A short, safe rendering of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
