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

const shortHash = (text: string): string =>
  createHash("sha256").update(text).digest("base64url").slice(0, 16);

/**
 * The hash of a primer's definition: what decides its values (the compute function's source
 * text, its params, its type, and its policies). A primer loaded from a module also covers
 * that module's code (see {@link bindModuleCode}).
 */
export function hashDefinition(parts: {
  compute: unknown;
  params: unknown;
  type: unknown;
  policies: unknown;
}): string {
  return shortHash(stableText(parts, new WeakSet()));
}

// The code of the module each primer was loaded from, and the default code version made of it.
const moduleCodes = new WeakMap<object, { readonly code: string; version?: string }>();

/**
 * Records the code of the module a primer was loaded from (the hash of its source and of the
 * modules it imports by relative path, `src/primer/module-code.ts`): the primer's default code
 * version then covers it, so that a change to a constant or a helper the compute uses, in its
 * own module or a sibling, is a change of code version too. Called by the primer loader right
 * after the module ran; the first binding stays (a module runs once per import).
 */
export function bindModuleCode(primer: object, moduleCode: string): void {
  if (!moduleCodes.has(primer)) moduleCodes.set(primer, { code: moduleCode });
}

/** A primer's default code version: its definition's hash, with its module's code when bound. */
export function defaultCodeVersion(primer: object, definition: string): string {
  const bound = moduleCodes.get(primer);
  if (bound === undefined) return definition;
  bound.version ??= shortHash(`${definition}\n${bound.code}`);
  return bound.version;
}
