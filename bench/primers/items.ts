import { defineObject, definePrimer, param } from "../../src/index.ts";
import { type Item, makeItem } from "../lib/workload.ts";

/** The GraphQL type of a shop item, shared by the bench primers whose value is one. */
export const ItemType = defineObject<Item>("Item", (t) => ({
  id: t.exposeInt("id"),
  sku: t.exposeString("sku"),
  name: t.exposeString("name"),
  priceCents: t.exposeInt("priceCents"),
  currency: t.exposeString("currency"),
  stock: t.exposeInt("stock"),
  tags: t.exposeStringList("tags"),
  description: t.exposeString("description"),
}));

/** One shop item, computed at once; the bench seeds most of them straight into the cache. */
export const item = definePrimer({
  name: "item",
  description: "One shop item.",
  params: { id: param.int() },
  type: ItemType,
  compute: ({ id }) => makeItem(id),
});

/** The same item after a compute that takes `ms` milliseconds: what a miss storm waits on. */
export const slowItem = definePrimer({
  name: "slowItem",
  description: "One shop item whose compute takes `ms` milliseconds.",
  params: { id: param.int(), ms: param.int() },
  type: ItemType,
  async compute({ id, ms }) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return makeItem(id);
  },
});
