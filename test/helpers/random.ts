/** A seeded PRNG (mulberry32), so a failing generated input can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "/",
  "%",
  "%2F",
  "%zz",
  "%E0%A4%A",
  "'",
  '"',
  ";",
  "--",
  "/*",
  "*/",
  "\\",
  "\u0000",
  "\n",
  " ",
  "∆",
  "東京",
  "🚀",
  "\ud800",
  "$1",
  "' or 1=1 --",
  "drop table kck.products;",
  "{",
  "}",
  "[",
  "]",
  "null",
  "-0",
  "042",
  "1e3",
  "NaN",
  "Infinity",
  "0x10",
  "9".repeat(30),
  "true",
  "é",
  "\u202e",
  "<script>",
];

/** Random text made of awkward pieces: unicode, percent signs, SQL and JSON metacharacters. */
export function awkwardString(random: () => number, maxPieces = 8): string {
  let out = "";
  const n = Math.floor(random() * maxPieces);
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.6) out += PIECES[Math.floor(random() * PIECES.length)];
    else if (r < 0.9) out += String.fromCharCode(32 + Math.floor(random() * 95));
    else out += String.fromCodePoint(Math.floor(random() * 0x10ffff) & ~0x800);
  }
  if (random() < 0.02) out += "x".repeat(3000 + Math.floor(random() * 5000));
  return out;
}

/** A random JSON value of a random type. */
export function randomJson(random: () => number, depth = 0): unknown {
  const r = random();
  if (r < 0.15) return awkwardString(random, 4);
  if (r < 0.3) return (random() - 0.5) * 10 ** Math.floor(random() * 25);
  if (r < 0.4) return random() < 0.5;
  if (r < 0.5) return null;
  if (r < 0.6 || depth > 3) return Math.floor((random() - 0.5) * 2 ** 60);
  if (r < 0.8)
    return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth + 1));
  return Object.fromEntries(
    Array.from({ length: Math.floor(random() * 4) }, () => [
      awkwardString(random, 2),
      randomJson(random, depth + 1),
    ]),
  );
}
