// The change check's cost on a large value: JSON.stringify + sha1 (before) against
// canonicalJson + sha1 (now). `npx tsx bench/canonical-hash.ts`
import { createHash } from "node:crypto";
import { canonicalJson, hashJson } from "../src/canonical-json.ts";

/** 100,000 records of one shape (the common case) and a map keyed by 10,000 ids. */
const records = Array.from({ length: 100_000 }, (_, i) => ({
  title: `Book number ${i} — ünïcode`,
  id: i,
  authorId: i % 997,
  price: i / 8,
  tags: ["a", "b", String(i % 13)],
  meta: { year: 1900 + (i % 120), inPrint: i % 2 === 0, note: null },
}));
const byId = Object.fromEntries(
  Array.from({ length: 10_000 }, (_, i) => [`id${i}`, { sales: i, copies: i * 2 }]),
);

function time(name: string, value: unknown, fn: (value: unknown) => string): number {
  for (let i = 0; i < 3; i++) fn(value);
  const runs: number[] = [];
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    fn(value);
    runs.push(performance.now() - started);
  }
  runs.sort((a, b) => a - b);
  const median = runs[7] ?? 0;
  const mb = (JSON.stringify(value).length / 1e6).toFixed(1);
  console.log(`${name} (${mb} MB): median ${median.toFixed(1)} ms`);
  return median;
}

const before = (value: unknown) =>
  createHash("sha1").update(JSON.stringify(value)).digest("base64url");
const now = (value: unknown) => hashJson(canonicalJson(value));
for (const [name, value] of [
  ["100k records", records],
  ["10k-key map", byId],
] as const) {
  const a = time(`${name}, JSON.stringify + sha1 (before)`, value, before);
  const b = time(`${name}, canonicalJson + sha1 (now)   `, value, now);
  console.log(`${name}: ${(b / a).toFixed(2)}x`);
}
