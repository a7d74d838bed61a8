import { createHash } from "node:crypto";

/** What a primer does with its stored products when its code version changes. */
export type CodeChangePolicy = "stale" | "expire";

/**
 * A stable text for any value a primer definition holds: functions by their source text,
 * object keys sorted, classes (object types) by their name and field definitions, cycles cut.
 */
function stableText(value: unknown, seen: WeakSet<object>): string {
  if (typeof value === "function") {
    const definition = (value as { definition?: unknown }).definition;
    const own = `fn:${String(value)}`;
    return definition === undefined ? own : `${own}${stableText(definition, seen)}`;
  }
  if (typeof value !== "object" || value === null) {
    return typeof value === "number" && !Number.isFinite(value)
      ? String(value)
      : (JSON.stringify(value) ?? String(value));
  }
  if (seen.has(value)) return "<cycle>";
  seen.add(value);
  const text = Array.isArray(value)
    ? `[${value.map((item) => stableText(item, seen)).join(",")}]`
    : `{${Object.keys(value)
        .sort()
        .map(
          (k) => `${JSON.stringify(k)}:${stableText((value as Record<string, unknown>)[k], seen)}`,
        )
        .join(",")}}`;
  seen.delete(value);
  return text;
}

/**
 * The default code version of a primer: a short hash of what decides its values (the compute
 * function's source text, its params, its type, and its policies). Code the compute calls
 * outside its own body (a helper in another module) is not part of it: give an explicit
 * `version` then.
 */
export function hashDefinition(parts: {
  compute: unknown;
  params: unknown;
  type: unknown;
  policies: unknown;
}): string {
  const text = stableText(parts, new WeakSet());
  return createHash("sha256").update(text).digest("base64url").slice(0, 16);
}
