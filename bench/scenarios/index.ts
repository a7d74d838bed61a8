import type { Scenario } from "../lib/scenario.ts";
import { augmentVsRefresh } from "./augment-vs-refresh.ts";
import { cachedProduct } from "./cached-product.ts";
import { fanOut } from "./fan-out.ts";
import { growth } from "./growth.ts";
import { longTail } from "./long-tail.ts";
import { manyFields } from "./many-fields.ts";
import { missStorm } from "./miss-storm.ts";
import { sourceChange } from "./source-change.ts";

/** Every scenario `npm run bench` runs, in order. A new scenario is one file and one line here. */
export const SCENARIOS: readonly Scenario[] = [
  cachedProduct,
  manyFields,
  missStorm,
  augmentVsRefresh,
  fanOut,
  sourceChange,
  growth,
  longTail,
];
