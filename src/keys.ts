import { KckError } from "./errors.ts";
import { checkParams, describe } from "./primer/params.ts";
import type { AnyPrimer } from "./primer/primer-types.ts";

/** The longest key KCK stores, in UTF-8 bytes (a PostgreSQL btree entry must stay small). */
export const MAX_KEY_BYTES = 2000;

/** A key taken apart: its primer, its typed params, and its canonical string form. */
export interface ParsedKey {
  /** The canonical key: `formatKey(primer, params)`. */
  readonly key: string;
  readonly primer: AnyPrimer;
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * Formats a product's key: the primer's name, then each param in declared order, each
 * percent-encoded, joined by `/`.
 */
export function formatKey(primer: AnyPrimer, params: Readonly<Record<string, unknown>>): string {
  checkParams(primer.name, primer.params, params);
  let key = primer.name;
  for (const name of primer.paramNames) {
    const type = primer.params[name];
    const segment = type.format(params[name]);
    try {
      key += `/${encodeURIComponent(segment)}`;
    } catch {
      throw new KckError(
        "BAD_PARAM",
        `Primer "${primer.name}" param "${name}" holds text that is not valid unicode (an unpaired surrogate); got ${describe(segment)}.`,
      );
    }
  }
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new KckError(
      "BAD_PARAM",
      `The key for primer "${primer.name}" would be ${Buffer.byteLength(key)} bytes long; keys are limited to ${MAX_KEY_BYTES} bytes.`,
    );
  }
  return key;
}

/**
 * Parses a key against the known primers. `parseKey(formatKey(p, v))` gives back `v`; a key
 * that is not canonical (`%34%32` for `42`) parses to its canonical form.
 */
export function parseKey(primers: ReadonlyMap<string, AnyPrimer>, key: unknown): ParsedKey {
  if (typeof key !== "string" || key === "") {
    throw new KckError(
      "BAD_KEY",
      `A key must be a non-empty string such as "titleList/42"; got ${describe(key)}.`,
    );
  }
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new KckError(
      "BAD_KEY",
      `A key is limited to ${MAX_KEY_BYTES} bytes; got one of ${Buffer.byteLength(key)} bytes.`,
    );
  }
  const [name = "", ...segments] = key.split("/");
  const primer = primers.get(name);
  if (primer === undefined) {
    const known = [...primers.keys()].sort().join(", ") || "none";
    throw new KckError(
      "UNKNOWN_PRIMER",
      `Key ${describe(key)} names primer ${describe(name)}, which is not defined; known primers: ${known}.`,
    );
  }
  const expected = primer.paramNames.length;
  if (segments.length !== expected) {
    const names = expected === 0 ? "no params" : `${expected} (${primer.paramNames.join(", ")})`;
    throw new KckError(
      "BAD_KEY",
      `Key ${describe(key)} has ${segments.length} param segment(s), but primer "${primer.name}" takes ${names}.`,
    );
  }
  const params: Record<string, unknown> = {};
  primer.paramNames.forEach((paramName, i) => {
    const raw = segments[i] ?? "";
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      throw new KckError(
        "BAD_KEY",
        `Key ${describe(key)}: param "${paramName}" of primer "${primer.name}" is not valid percent-encoding; got ${describe(raw)}.`,
      );
    }
    try {
      params[paramName] = primer.params[paramName].parse(decoded);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new KckError(
        "BAD_KEY",
        `Key ${describe(key)}: param "${paramName}" of primer "${primer.name}" ${why}; got ${describe(decoded)}.`,
      );
    }
  });
  return { key: formatKey(primer, params), primer, params };
}

/**
 * The parsed key of a primer's params. Only the params the primer declares are kept (a GraphQL
 * field's other arguments, say); each is checked as `formatKey` checks it.
 */
export function resolveKey(
  primer: AnyPrimer,
  params: Readonly<Record<string, unknown>>,
): ParsedKey {
  const clean: Record<string, unknown> = {};
  for (const name of primer.paramNames) clean[name] = params[name];
  return { key: formatKey(primer, clean), primer, params: clean };
}

/** Primers by name, as {@link parseKey} takes them; throws BAD_CONFIG when two share a name. */
export function primersByName(primers: Iterable<AnyPrimer>): Map<string, AnyPrimer> {
  const byName = new Map<string, AnyPrimer>();
  for (const primer of primers) {
    if (byName.has(primer.name)) {
      throw new KckError(
        "BAD_CONFIG",
        `Two primers are named "${primer.name}"; primer names must be unique.`,
      );
    }
    byName.set(primer.name, primer);
  }
  return byName;
}
