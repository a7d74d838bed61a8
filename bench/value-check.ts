// What checking a computed value against its GraphQL type costs (src/graphql/value-checker.ts),
// next to the JSON.stringify every stored value goes through anyway: `npm run bench:check`.

import { buildSchema } from "../src/graphql/schema.ts";
import { misfitFinder } from "../src/graphql/value-checker.ts";
import { defineObject, definePrimer, param } from "../src/index.ts";

interface Row {
  id: number;
  title: string;
  price: number;
  tags: string[];
}

const RowType = defineObject<Row>("BenchRow", (t) => ({
  id: t.exposeInt("id"),
  title: t.exposeString("title"),
  price: t.exposeFloat("price"),
  tags: t.exposeStringList("tags"),
}));
const rows = definePrimer({
  name: "rows",
  params: { n: param.int() },
  type: [RowType],
  compute: () => [],
});
const type = buildSchema([rows]).getQueryType()?.getFields()["rows"]?.type;
if (type === undefined) throw new Error("The bench primer has no query field.");

const value: Row[] = Array.from({ length: 10_000 }, (_, i) => ({
  id: i,
  title: `title ${i}`,
  price: i / 3,
  tags: ["a", "b"],
}));
const time = (fn: () => unknown, runs: number): number => {
  for (let i = 0; i < 20; i++) fn();
  const started = performance.now();
  for (let i = 0; i < runs; i++) fn();
  return (performance.now() - started) / runs;
};
const findMisfit = misfitFinder();
const checkMs = time(() => findMisfit(type, value), 200);
const stringifyMs = time(() => JSON.stringify(value), 200);
console.log(
  `10000 objects (${JSON.stringify(value).length} bytes of JSON): check ${checkMs.toFixed(2)} ms, JSON.stringify ${stringifyMs.toFixed(2)} ms`,
);
