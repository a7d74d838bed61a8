import { defineInput, definePrimer, param } from "../../src/index.ts";
import { makeItem } from "../lib/workload.ts";
import { ItemType } from "./items.ts";

/** A change of an item's stock: the delta of the `stockItem` primer. */
export const StockChangeInput = defineInput<{ change: number }>("StockChangeInput", (t) => ({
  change: t.int({ required: true, description: "Units added (negative: taken)." }),
}));

/**
 * A shop item whose stock is augmented in place: what the fan-out scenario's subscribers
 * watch. Its compute is the item as seeded; each augment moves the stock and bumps the version.
 */
export const stockItem = definePrimer({
  name: "stockItem",
  description: "One shop item whose stock moves by augments.",
  params: { id: param.int() },
  type: ItemType,
  compute: ({ id }) => makeItem(id),
  augment: {
    delta: StockChangeInput,
    // A new object with the fields in the item's order, so equal values serialise alike.
    reduce: (current, { change }) => ({ ...current, stock: current.stock + change }),
  },
});
