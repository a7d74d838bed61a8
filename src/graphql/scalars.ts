import { GraphQLError, Kind, type ValueNode } from "graphql";
import type { KckBuilder } from "./builder.ts";

function literal(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.NULL:
      return null;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return node.value;
    case Kind.LIST:
      return node.values.map(literal);
    case Kind.OBJECT:
      return Object.fromEntries(
        node.fields.map((field) => [field.name.value, literal(field.value)]),
      );
    default:
      throw new GraphQLError("JSON literals cannot contain variables.");
  }
}

const INT64 = /^-?(0|[1-9]\d{0,18})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A 64-bit integer from a decimal string or a safe JSON integer; a GraphQLError otherwise. */
function toBigInt(value: unknown): bigint {
  const n =
    typeof value === "bigint"
      ? value
      : typeof value === "number" && Number.isSafeInteger(value)
        ? BigInt(value)
        : typeof value === "string" && INT64.test(value) && value !== "-0"
          ? BigInt(value)
          : undefined;
  if (n === undefined || n < INT64_MIN || n > INT64_MAX) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    throw new GraphQLError(
      `Expected a 64-bit integer written as a decimal string (such as "9007199254740993"); got ${shown.slice(0, 80)}.`,
    );
  }
  return n;
}

/** Adds the JSON, DateTime and BigInt scalars. */
export function addScalars(builder: KckBuilder): void {
  builder.scalarType("JSON", {
    description: "Any JSON value.",
    serialize: (value) => value,
    parseValue: (value) => value,
    parseLiteral: literal,
  });
  // A string on the wire: JSON numbers past 2^53 lose digits in JavaScript clients, and
  // GraphQL's Int is 32-bit. Input also takes a safe integer literal or number.
  builder.scalarType("BigInt", {
    description:
      "A 64-bit integer, written as a decimal string (exact in every client); input also accepts a whole number up to 2^53.",
    serialize: (value) => String(toBigInt(value)),
    parseValue: toBigInt,
    parseLiteral: (node) => {
      if (node.kind === Kind.INT || node.kind === Kind.STRING)
        return toBigInt(node.kind === Kind.INT ? BigInt(node.value) : node.value);
      throw new GraphQLError("Expected a 64-bit integer as a string or a whole number.");
    },
  });
  builder.scalarType("DateTime", {
    description: "A moment in time, as an ISO 8601 string.",
    serialize: (value) => (value instanceof Date ? value : new Date(String(value))).toISOString(),
    parseValue: (value) => {
      const date = new Date(String(value));
      if (Number.isNaN(date.getTime()))
        throw new GraphQLError(`Expected an ISO 8601 date-time; got ${String(value)}.`);
      return date;
    },
  });
}
