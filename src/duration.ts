import { KckError } from "./errors.ts";

/**
 * A length of time: milliseconds as a number, a string such as `"30s"`, `"5m"`, `"1h"`,
 * `"2d"` (units ms, s, m, h, d; combinable as `"1h30m"`), or `"forever"`.
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Converts a Duration to milliseconds; `"forever"` and `Infinity` give `Infinity`. */
export function toMs(duration: Duration, what = "duration"): number {
  if (typeof duration === "number") {
    if (duration >= 0) return duration;
    throw new KckError("BAD_CONFIG", `A ${what} must not be negative; got ${duration}.`);
  }
  const text = duration.trim();
  if (text === "forever") return Number.POSITIVE_INFINITY;
  PART.lastIndex = 0;
  let total = 0;
  let matched = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? "ms"] ?? 1);
    matched = PART.lastIndex;
  }
  if (matched === 0 || matched !== text.length) {
    throw new KckError(
      "BAD_CONFIG",
      `A ${what} must look like "30s", "5m", "1h30m" or "forever"; got "${duration}".`,
    );
  }
  return total;
}
