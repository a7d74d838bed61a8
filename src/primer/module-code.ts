import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, relative, resolve } from "node:path";

/** The code of a module: its source and the sources of the modules it imports by relative path. */
export interface ModuleCode {
  /** A hash of every source in `files`, with their paths relative to the module's folder. */
  readonly hash: string;
  /** The files read: the module and every module it imports by relative path, transitively. */
  readonly files: readonly string[];
}

// `from "./x"`, `import "./x"`, `import("./x")`, `require("./x")`: relative specifiers only;
// packages are not part of a module's code. A match inside a comment only adds a file.
const RELATIVE_IMPORT =
  /(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\()\s*(["'])(\.{1,2}\/[^"'\n]+)\1/g;

// What a relative specifier may name, in the order Node (with a TypeScript loader) tries.
const TS_FOR_JS: Readonly<Record<string, readonly string[]>> = {
  ".js": [".ts", ".tsx"],
  ".mjs": [".mts"],
  ".cjs": [".cts"],
  ".jsx": [".tsx"],
};
const BARE = [".ts", ".tsx", ".mts", ".js", ".mjs", "/index.ts", "/index.js"];

const isFile = (path: string) =>
  stat(path).then(
    (s) => s.isFile(),
    () => false,
  );

async function resolveRelative(from: string, specifier: string): Promise<string | undefined> {
  const target = resolve(dirname(from), specifier.replace(/[?#].*$/, ""));
  const ext = extname(target);
  const candidates = [
    target,
    ...(TS_FOR_JS[ext] ?? []).map((ts) => target.slice(0, -ext.length) + ts),
    ...BARE.map((suffix) => target + suffix),
  ];
  for (const candidate of candidates) if (await isFile(candidate)) return candidate;
  return undefined;
}

/** What one file holds: its source and the files it imports by relative path. */
interface ReadFile {
  readonly source: string;
  readonly imports: readonly string[];
}

/** Files already read, by path: pass one to the reads of one load. */
export type ModuleCodeCache = Map<string, Promise<ReadFile>>;

const readOne = async (path: string): Promise<ReadFile> => {
  const source = await readFile(path, "utf8");
  const imports: string[] = [];
  for (const match of source.matchAll(RELATIVE_IMPORT)) {
    const imported = await resolveRelative(path, match[2] as string);
    if (imported !== undefined) imports.push(imported);
  }
  return { source, imports };
};

/**
 * Reads a module's code: its source and, transitively, the sources of the modules it imports by
 * relative path (a specifier that resolves to no file is left out). The hash changes when any
 * of them does, comments included: the simplest rule that never misses a change.
 */
export async function readModuleCode(
  file: string,
  cache: ModuleCodeCache = new Map(),
): Promise<ModuleCode> {
  const root = dirname(resolve(file));
  const sources = new Map<string, string>();
  const visit = async (path: string): Promise<void> => {
    if (sources.has(path)) return;
    let read = cache.get(path);
    if (read === undefined) {
      read = readOne(path);
      cache.set(path, read);
    }
    const { source, imports } = await read;
    sources.set(path, source);
    for (const imported of imports) await visit(imported);
  };
  await visit(resolve(file));
  const hash = createHash("sha256");
  for (const path of [...sources.keys()].sort()) {
    hash.update(`${relative(root, path)}\0${sources.get(path)}\0`);
  }
  return { hash: hash.digest("base64url").slice(0, 16), files: [...sources.keys()] };
}
