import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Db, Queryable } from "./db/db.ts";
import { KckError, messageOf } from "./errors.ts";
import { bindModuleCode } from "./primer/code-version.ts";
import { type AnyPrimer, isPrimer } from "./primer/define-primer.ts";
import { type ModuleCodeCache, readModuleCode } from "./primer/module-code.ts";
import { exclusively, LOCK } from "./sql/locks.ts";

/**
 * Prepares what a primer module reads (source tables, seed rows); exported from a primer
 * module as `setup`, run at every start, so it must be idempotent. It runs in one transaction:
 * a setup that fails half-way leaves nothing behind, and the next start runs it again.
 */
export type ModuleSetup = (db: Queryable) => Promise<void>;

/**
 * Runs the modules' setups in order, each in a transaction of its own, in one process at a
 * time across every process starting on the database: setups create tables "if not exists",
 * which PostgreSQL can fail when two sessions do it at the same moment.
 */
export async function runSetups(db: Db, setups: readonly ModuleSetup[]): Promise<void> {
  if (setups.length === 0) return;
  await exclusively(db, LOCK.moduleSetups, async () => {
    for (const setup of setups) await db.transaction((tx) => setup(tx));
  });
}

/** What a primers folder holds. */
export interface PrimerModules {
  readonly primers: AnyPrimer[];
  readonly setups: ModuleSetup[];
  /** Every file the primers' code was read from: the modules and what they import by relative path. */
  readonly files: string[];
}

/** Options for {@link loadPrimers}. */
export interface LoadPrimersOptions {
  /**
   * Imports the modules afresh, as `file?kck-reload=<generation>`: a new generation runs the
   * modules again, and `kck dev`'s module hook (src/dev/reload-hook.ts) carries the query to
   * the modules they import by relative path, so those run again too.
   * @default the modules as imported before (Node's module cache)
   */
  generation?: number;
}

const MODULE = /\.(ts|mts|js|mjs)$/;
const SKIP = /\.(d|test|spec)\.[mc]?[jt]s$/;

/**
 * Imports every module under `dir` (recursively, in path order) and collects the primers it
 * exports and its `setup` function, if any. Each primer's default code version is bound to its
 * module's code (its source and its relative imports', src/primer/module-code.ts).
 */
export async function loadPrimers(
  dir: string,
  options: LoadPrimersOptions = {},
): Promise<PrimerModules> {
  const root = resolve(dir);
  let files: string[];
  try {
    files = (await readdir(root, { recursive: true }))
      .filter((f) => MODULE.test(f) && !SKIP.test(f))
      .sort();
  } catch (error) {
    throw new KckError(
      "BAD_CONFIG",
      `Cannot read the primers folder ${root}: ${messageOf(error)}. Set KCK_PRIMERS_DIR to a folder of primer modules.`,
    );
  }
  const primers: AnyPrimer[] = [];
  const setups: ModuleSetup[] = [];
  const read = new Set<string>();
  const cache: ModuleCodeCache = new Map();
  const query = options.generation === undefined ? "" : `?kck-reload=${options.generation}`;
  for (const file of files) {
    const path = join(root, file);
    const module = (await import(`${pathToFileURL(path).href}${query}`)) as Record<string, unknown>;
    const code = await readModuleCode(path, cache);
    for (const codeFile of code.files) read.add(codeFile);
    for (const [name, value] of Object.entries(module)) {
      if (isPrimer(value) && !primers.includes(value)) {
        bindModuleCode(value, code.hash);
        primers.push(value);
      }
      if (name === "setup" && typeof value === "function") setups.push(value as ModuleSetup);
    }
  }
  return { primers, setups, files: [...read] };
}
