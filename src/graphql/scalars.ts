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

/** Adds the JSON and DateTime scalars. */
export function addScalars(builder: KckBuilder): void {
  builder.scalarType("JSON", {
    description: "Any JSON value.",
    serialize: (value) => value,
    parseValue: (value) => value,
    parseLiteral: literal,
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
