import type { Scenario } from "../lib/scenario.ts";
import { cachedProduct } from "./cached-product.ts";
import { fanOut } from "./fan-out.ts";
import { growth } from "./growth.ts";
import { manyFields } from "./many-fields.ts";
import { missStorm } from "./miss-storm.ts";

/** Every scenario `npm run bench` runs, in order. A new scenario is one file and one line here. */
export const SCENARIOS: readonly Scenario[] = [
  cachedProduct,
  manyFields,
  missStorm,
  growth,
  fanOut,
];
