// Apart from db.ts so that SQL text can be built without loading the driver.

/** Quotes an SQL identifier (a schema or table name) safely. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
