/**
 * The bench's one workload, shared by KCK and every baseline so that all of them answer the
 * same request with the same bytes: a shop item, asked for by GraphQL.
 */

/** One stored item: the value of the bench primer `item`. */
export interface Item {
  id: number;
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  stock: number;
  tags: string[];
  description: string;
}

/** The item with this id; the same formulas seed the table in SQL (see {@link ITEM_SQL}). */
export function makeItem(id: number): Item {
  return {
    id,
    sku: `SKU-${String(id).padStart(8, "0")}`,
    name: `Item ${id}`,
    priceCents: (id * 7919) % 100_000,
    currency: "EUR",
    stock: (id * 31) % 500,
    tags: [`tag${id % 10}`, `tag${id % 7}`],
    description: `A sturdy bench item number ${id} with a description of ordinary length.`,
  };
}

/** An item's value built in SQL from `i`, equal to `makeItem(i)` (checked by the bench). */
export const ITEM_SQL = `jsonb_build_object('id', i, 'sku', 'SKU-' || lpad(i::text, 8, '0'),
  'name', 'Item ' || i, 'priceCents', (i::bigint * 7919) % 100000, 'currency', 'EUR',
  'stock', (i::bigint * 31) % 500, 'tags', jsonb_build_array('tag' || (i % 10), 'tag' || (i % 7)),
  'description', 'A sturdy bench item number ' || i || ' with a description of ordinary length.')`;

/** The fields every query selects, in the order of {@link Item}. */
export const ITEM_FIELDS = "id sku name priceCents currency stock tags description";

/** The schema of the baselines that speak GraphQL: the same types KCK's schema gives `item`. */
export const ITEM_SDL = `
  type Item {
    id: Int!
    sku: String!
    name: String!
    priceCents: Int!
    currency: String!
    stock: Int!
    tags: [String!]!
    description: String!
  }
  type Query {
    item(id: Int!): Item
  }
`;

const ONE_ITEM = `query Item($id: Int!) { item(id: $id) { ${ITEM_FIELDS} } }`;

/** The request body for one item: one field, its id as a variable. */
export function oneItemBody(id: number): string {
  return JSON.stringify({ query: ONE_ITEM, variables: { id } });
}

/** What every target answers to {@link oneItemBody}. */
export function oneItemResponse(id: number): string {
  return JSON.stringify({ data: { item: makeItem(id) } });
}

const SLOW_ITEM = `query SlowItem($id: Int!, $ms: Int!) { slowItem(id: $id, ms: $ms) { ${ITEM_FIELDS} } }`;

/** The request body for an item whose compute takes `ms` milliseconds (the miss storm). */
export function slowItemBody(id: number, ms: number): string {
  return JSON.stringify({ query: SLOW_ITEM, variables: { id, ms } });
}

/** What KCK answers to {@link slowItemBody}. */
export function slowItemResponse(id: number): string {
  return JSON.stringify({ data: { slowItem: makeItem(id) } });
}

/**
 * The request body for many items in one operation: one aliased field per id (`i0`, `i1`, ...),
 * each id a variable (`$i0`, ...), so that a baseline can read the ids from the variables.
 */
export function manyItemsBody(ids: readonly number[]): string {
  const declared = ids.map((_, n) => `$i${n}: Int!`).join(", ");
  const fields = ids.map((_, n) => `i${n}: item(id: $i${n}) { ${ITEM_FIELDS} }`).join(" ");
  const variables = Object.fromEntries(ids.map((id, n) => [`i${n}`, id]));
  return JSON.stringify({ query: `query Items(${declared}) { ${fields} }`, variables });
}

/** What every target answers to {@link manyItemsBody}. */
export function manyItemsResponse(ids: readonly number[]): string {
  return JSON.stringify({
    data: Object.fromEntries(ids.map((id, n) => [`i${n}`, makeItem(id)])),
  });
}

/** Puts a stored item (whose JSON keys PostgreSQL reorders) back into the GraphQL field order. */
export function inFieldOrder(value: Item): Item {
  return {
    id: value.id,
    sku: value.sku,
    name: value.name,
    priceCents: value.priceCents,
    currency: value.currency,
    stock: value.stock,
    tags: value.tags,
    description: value.description,
  };
}
