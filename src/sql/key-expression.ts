import { quoteIdent } from "../db/quote-ident.ts";

/** The scalar types a key's params have (the primer API's `ParamScalar`). */
export type KeyScalar = "Int" | "BigInt" | "Float" | "String" | "Boolean" | "ID";

/** What a key expression needs of a primer: its name and its params' names and types, in order. */
export interface KeyShape {
  readonly name: string;
  readonly paramNames: readonly string[];
  readonly params: Readonly<Record<string, { readonly scalar: KeyScalar }>>;
}

/** Text as an SQL string literal (quotes doubled), for DDL, which takes no bind parameters. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

// The SQL (migrations 000002, 000010, 000017) that writes a column's value as the param's key
// segment, before percent-encoding, exactly as the param type's `format` does in JavaScript
// with the value the pg driver reads from that column.
const SEGMENT: Record<KeyScalar, (column: string) => string> = {
  Int: (column) => `kck.key_int(kck.key_number(${column}))`,
  BigInt: (column) => `kck.key_bigint(kck.key_number(${column}))`,
  // Overloaded for real, double precision and numeric; integers resolve to double precision.
  Float: (column) => `kck.key_float(${column})`,
  Boolean: (column) => `(${column})::boolean::text`,
  String: (column) => `(${column})::text`,
  ID: (column) => `(${column})::text`,
};

/**
 * The SQL expression for the product key a row maps to, equal byte for byte to `formatKey` of
 * the same values: `'titleList' || '/' || kck.uri_component(…)`. Null when a column is null or
 * holds a value no key of the primer can hold.
 *
 * @param columns the column of each param, in the primer's param order.
 * @param row the row's alias in the statement.
 */
export function keyExpression(primer: KeyShape, columns: readonly string[], row: string): string {
  const parts = primer.paramNames.map((name, i) => {
    const column = `${row}.${quoteIdent(columns[i] as string)}`;
    const segment = SEGMENT[(primer.params[name] as { scalar: KeyScalar }).scalar](column);
    return `'/' || kck.uri_component(${segment})`;
  });
  return [literal(primer.name), ...parts].join(" || ");
}
