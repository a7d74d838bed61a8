import { SHELVES } from "../fixtures/shelves.ts";

/** One HTTP request the differential test sends to both gateways. */
export interface RequestShape {
  readonly method: "GET" | "POST";
  /** Path and query string. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** A subscription that may never end: only its first event is compared. */
  readonly stream: boolean;
  /** What the shape is, for a failure's message. */
  readonly label: string;
}

/** The limits both gateways run with, small enough for the generator to reach them. */
export const SHAPE_LIMITS = {
  depth: 6,
  aliases: 12,
  cost: 20_000,
  tokens: 400,
  directives: 8,
  bodyBytes: 100_000,
  batch: 3,
};

/** The tokens both gateways accept. */
export const TOKENS = { read: "reader-token", admin: "admin-token" };

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;
const chance = (random: Random, p: number) => random() < p;

const WORDS = ["kck", "fast", "path", "é∆🚀", "a/b%2F", 'quote"d', "x"];
const SHELF_FIELDS = [
  "id",
  "title",
  "tags",
  "price",
  "stock",
  "label",
  "label(upper: true)",
  "label(upper: false)",
  "__typename",
];

/** A selection of a shelf's fields: aliases, fragments, inline fragments, directives. */
function shelfSelection(random: Random, flags: Set<string>, fragments: Set<string>): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(random() * 4);
  for (let i = 0; i < n; i++) {
    const field = pick(random, SHELF_FIELDS);
    const alias = chance(random, 0.25) ? `f${i}: ` : "";
    let directive = "";
    const d = random();
    if (d < 0.1) {
      directive = " @include(if: $flag)";
      flags.add("flag");
    } else if (d < 0.15) directive = " @skip(if: true)";
    else if (d < 0.2) directive = " @include(if: false)";
    parts.push(`${alias}${field}${directive}`);
  }
  if (chance(random, 0.15)) {
    parts.push("...ShelfBits");
    fragments.add("fragment ShelfBits on Shelf { id stock tags }");
  }
  if (chance(random, 0.1)) parts.push("... on Shelf { price title }");
  return `{ ${parts.join(" ")} }`;
}

/** One top-level field: a primer read (literal or variable args), or sometimes not one. */
function topField(
  random: Random,
  n: number,
  vars: Map<string, [string, unknown]>,
  flags: Set<string>,
  fragments: Set<string>,
): string {
  const alias = chance(random, 0.3) ? `a${n}: ` : "";
  const r = random();
  if (r < 0.55) {
    const id = chance(random, 0.05) ? 99 : 1 + Math.floor(random() * SHELVES);
    let arg = String(id);
    if (chance(random, 0.35)) {
      const name = `id${n}`;
      // Sometimes a variable of the wrong type, which coercion refuses.
      vars.set(name, ["Int!", chance(random, 0.04) ? "seven" : id]);
      arg = `$${name}`;
    }
    return `${alias}shelf(id: ${arg}) ${shelfSelection(random, flags, fragments)}`;
  }
  if (r < 0.8) {
    const text = pick(random, WORDS);
    if (chance(random, 0.3)) {
      vars.set(`t${n}`, ["String!", text]);
      return `${alias}word(text: $t${n})`;
    }
    return `${alias}word(text: ${JSON.stringify(text)})`;
  }
  if (r < 0.88) return `${alias}__typename`;
  if (r < 0.95)
    return `${alias}product(key: "shelf/${1 + Math.floor(random() * SHELVES)}") { key primer }`;
  return `${alias}nope`;
}

/** A GraphQL document and its variables. */
function operation(random: Random): {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  kind: string;
} {
  const r = random();
  if (r < 0.03) return { query: "{ shelf(id: 1) { id ", kind: "syntax error" };
  if (r < 0.05) {
    // Past the alias limit, or the token limit.
    const many = Array.from({ length: 14 }, (_, i) => `w${i}: word(text: "x")`).join(" ");
    return { query: `{ ${many} }`, kind: "too many aliases" };
  }
  if (r < 0.07) {
    const many = Array.from({ length: 80 }, () => "id").join(" ");
    return { query: `{ shelf(id: 2) { ${many} } }`, kind: "too many tokens" };
  }
  if (r < 0.09)
    return {
      query: `mutation { invalidate(key: "shelf/${1 + Math.floor(random() * SHELVES)}") { key } }`,
      kind: "mutation (refused without the admin token)",
    };
  const vars = new Map<string, [string, unknown]>();
  const flags = new Set<string>();
  const fragments = new Set<string>();
  const fields = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, n) =>
    topField(random, n, vars, flags, fragments),
  );
  const variables: Record<string, unknown> = {};
  const declared: string[] = [];
  for (const [name, [type, value]] of vars) {
    declared.push(`$${name}: ${type}`);
    // Sometimes a required variable is left out.
    if (!chance(random, 0.03)) variables[name] = value;
  }
  if (flags.size > 0) {
    declared.push("$flag: Boolean!");
    variables["flag"] = chance(random, 0.5);
  }
  const decl = declared.length > 0 ? `(${declared.join(", ")})` : "";
  const multi = chance(random, 0.1);
  const named = multi || chance(random, 0.3);
  const selection = `{ ${fields.join(" ")} }`;
  let query = named
    ? `query Read${decl} ${selection}`
    : decl
      ? `query${decl} ${selection}`
      : selection;
  // Several operations: the name picks one (or names none that exists, or is missing).
  if (multi) query += ' query Other { word(text: "other") }';
  query += ` ${[...fragments].join(" ")}`;
  const operationName = multi
    ? pick(random, ["Read", "Other", "Missing", undefined])
    : named && chance(random, 0.5)
      ? "Read"
      : undefined;
  return {
    query: query.trim(),
    ...(declared.length > 0 || chance(random, 0.2) ? { variables } : {}),
    ...(operationName ? { operationName } : {}),
    kind: "query",
  };
}

const CONTENT_TYPES: [number, string | undefined][] = [
  [0.7, "application/json"],
  [0.8, "application/json; charset=utf-8"],
  [0.84, "application/jsonx"],
  [0.88, "text/plain"],
  [0.92, "application/graphql"],
  [0.96, undefined],
  [1, "application/x-www-form-urlencoded"],
];

const ACCEPTS: [number, string | undefined][] = [
  [0.35, undefined],
  [0.45, "*/*"],
  [0.62, "application/json"],
  [0.8, "application/graphql-response+json"],
  [0.84, "application/graphql-response+json, application/json;q=0.9"],
  [0.87, "text/html"],
  [0.95, "text/event-stream"],
  [1, "multipart/mixed"],
];

const weighted = <T>(random: Random, table: [number, T][]): T => {
  const r = random();
  for (const [upTo, value] of table) if (r < upTo) return value;
  return (table[table.length - 1] as [number, T])[1];
};

function authorization(random: Random): string | undefined {
  const r = random();
  if (r < 0.7) return `Bearer ${TOKENS.read}`;
  if (r < 0.8) return `Bearer ${TOKENS.admin}`;
  if (r < 0.87) return undefined;
  if (r < 0.94) return "Bearer wrong-token";
  return "Basic abc";
}

/** A new random request shape. */
export function requestShape(random: Random): RequestShape {
  const headers: Record<string, string> = {};
  const accept = weighted(random, ACCEPTS);
  if (accept !== undefined) headers["accept"] = accept;
  const token = authorization(random);
  if (token !== undefined) headers["authorization"] = token;
  if (chance(random, 0.05)) headers["origin"] = "https://example.com";

  const r = random();
  if (r < 0.03) {
    // A subscription POSTed as JSON: may stream forever.
    headers["content-type"] = "application/json";
    return {
      method: "POST",
      path: "/graphql",
      headers,
      body: JSON.stringify({ query: `subscription { shelf(id: 3) { id stock } }` }),
      stream: true,
      label: "subscription",
    };
  }
  if (r < 0.15) {
    const op = operation(random);
    const params = new URLSearchParams({ query: op.query });
    if (op.variables) params.set("variables", JSON.stringify(op.variables));
    if (op.operationName) params.set("operationName", op.operationName);
    return {
      method: "GET",
      path: `/graphql?${params}`,
      headers,
      stream: false,
      label: `GET ${op.kind}`,
    };
  }
  const type = weighted(random, CONTENT_TYPES);
  if (type !== undefined) headers["content-type"] = type;
  let body: string;
  let label: string;
  const b = random();
  if (b < 0.03) {
    body = "";
    label = "empty body";
  } else if (b < 0.05) {
    body = pick(random, [
      "null",
      "[]",
      "{",
      "42",
      '{"query":7}',
      '{"query":"{ word(text: \\"x\\") }"',
    ]);
    label = "odd JSON";
  } else if (b < 0.1) {
    body = JSON.stringify(
      Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const { kind: _kind, ...op } = operation(random);
        return op;
      }),
    );
    label = "batch";
  } else if (b < 0.12) {
    // Larger than the fast path reads itself (64 KiB), within the body limit: a long comment.
    body = JSON.stringify({ query: `# ${"x".repeat(70_000)}\n{ word(text: "big") }` });
    label = "70 KB body";
  } else if (b < 0.13) {
    body = JSON.stringify({ query: `# ${"y".repeat(120_000)}\n{ word(text: "big") }` });
    label = "body over the limit";
  } else {
    const { kind, ...op } = operation(random);
    body = chance(random, 0.1) ? JSON.stringify(op, null, 2) : JSON.stringify(op);
    if (type === "application/graphql") body = op.query;
    label = kind;
  }
  return { method: "POST", path: "/graphql", headers, body, stream: false, label };
}
