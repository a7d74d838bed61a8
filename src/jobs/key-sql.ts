import { quoteIdent } from "../db/db.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import type { ParamScalar } from "../primer/params.ts";

// DDL takes no bind parameters: text goes through `literal` (quotes doubled).
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

// The SQL (migrations 000002, 000010) that writes a column's value as the param's key segment,
// before percent-encoding, exactly as the param type's `format` does in JavaScript.
const SEGMENT: Record<ParamScalar, (column: string) => string> = {
  Int: (column) => `kck.key_int((${column})::numeric)`,
  BigInt: (column) => `kck.key_bigint((${column})::numeric)`,
  // Overloaded for real and double precision; other numbers resolve to double precision.
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
export function keyExpression(primer: AnyPrimer, columns: readonly string[], row: string): string {
  const parts = primer.paramNames.map((name, i) => {
    const column = `${row}.${quoteIdent(columns[i] as string)}`;
    const segment = SEGMENT[primer.params[name].scalar as ParamScalar](column);
    return `'/' || kck.uri_component(${segment})`;
  });
  return [literal(primer.name), ...parts].join(" || ");
}
