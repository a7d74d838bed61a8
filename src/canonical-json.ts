import { createHash } from "node:crypto";

// JSON with every object's keys in one order, recursively: equal values by content serialise
// to the same text whatever order their keys were built in (a compute, a reducer's
// `{ ...current }`, or jsonb, which stores keys in its own order). Otherwise it is
// JSON.stringify's output (toJSON, undefined, non-finite numbers), except that a bigint is
// written as its decimal string (the BigInt scalar's form), where JSON.stringify would throw.

/**
 * The value with every plain object rebuilt with its keys inserted in sorted order (objects
 * already in order, and whatever holds only such, are kept as they are), bigints as strings,
 * and toJSON results in place of their objects: what JSON.stringify then writes canonically
 * (integer-like keys come first in numeric order, as JavaScript enumerates them).
 */
function sorted(value: unknown): unknown {
  if (typeof value !== "object" || value === null) {
    return typeof value === "bigint" ? String(value) : value;
  }
  const withJson = value as { toJSON?: (key: string) => unknown };
  if (typeof withJson.toJSON === "function") return sorted(withJson.toJSON(""));
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = sorted(value[i]);
      if (item !== value[i]) {
        copy ??= value.slice();
        copy[i] = item;
      }
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let inOrder = true;
  for (let i = 1; i < keys.length && inOrder; i++) {
    inOrder = (keys[i - 1] as string) <= (keys[i] as string);
  }
  if (!inOrder) {
    const out: Record<string, unknown> = {};
    for (const key of keys.sort()) out[key] = sorted(record[key]);
    return out;
  }
  let copy: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = sorted(record[key]);
    if (item !== record[key] && copy === undefined) {
      // Keys already in order: a copy in the same order, with the changed values.
      copy = {};
      for (let j = 0; j < i; j++) copy[keys[j] as string] = record[keys[j] as string];
    }
    if (copy !== undefined) copy[key] = item;
  }
  return copy ?? value;
}

// The fast way: JSON.stringify with a property list serialises every object's keys in the
// list's order, natively. It costs a lookup of every listed name per object, so it is used only
// when the value has few distinct keys (the usual shape: records); and only on plain data, since
// the list is read with [[Get]] (inherited getters, `__proto__`) and a toJSON result's keys are
// not seen by the walk that collects them.
const MOST_KEYS = 128;

/** Adds the value's object keys to `keys`; false when the fast way cannot serialise it. */
function collect(value: unknown, keys: Set<string>): boolean {
  if (typeof value !== "object" || value === null) return typeof value !== "bigint";
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!collect(value[i], keys)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    keys.add(key);
    if (!collect((value as Record<string, unknown>)[key], keys)) return false;
  }
  return keys.size <= MOST_KEYS && !keys.has("__proto__");
}

/**
 * Serialises a value to JSON with every object's keys sorted (recursively), so that values
 * equal by content give the same text: the form KCK stores and hashes. A top-level value that
 * JSON cannot hold (undefined) becomes `null`.
 */
export function canonicalJson(value: unknown): string {
  const keys = new Set<string>();
  if (collect(value, keys)) return JSON.stringify(value, [...keys].sort()) ?? "null";
  return JSON.stringify(sorted(value)) ?? "null";
}

/** The hash that decides whether a new value is a change: sha1 of its canonical JSON. */
export function hashJson(json: string): string {
  return createHash("sha1").update(json).digest("base64url");
}
