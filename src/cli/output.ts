import { type Freshness, freshnessOf, type StoredProduct } from "../engine/product.ts";

/** Writes one line (or block) of data to stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Writes a value to stdout as JSON: one line, or indented with `pretty`. */
export function printJson(value: unknown, pretty = false): void {
  print(JSON.stringify(value, null, pretty ? 2 : undefined));
}

/** A product's metadata as commands print it: without its value, with its state. */
export interface ProductMeta extends Omit<StoredProduct, "value" | "hash"> {
  readonly state: Freshness;
}

/** A stored product's metadata, for printing. */
export function metaOf(product: StoredProduct): ProductMeta {
  const { value: _value, hash: _hash, ...meta } = product;
  return { ...meta, state: freshnessOf(product) };
}

/** A number of milliseconds, for people. */
export function ms(value: number | null): string {
  return value === null ? "-" : `${value.toFixed(1)} ms`;
}
