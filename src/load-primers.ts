import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Queryable } from "./db/db.ts";
import { KckError, messageOf } from "./errors.ts";
import { type AnyPrimer, isPrimer } from "./primer/define-primer.ts";

/**
 * Prepares what a primer module reads (source tables, seed rows); exported from a primer
 * module as `setup`, run at every start, so it must be idempotent.
 */
export type ModuleSetup = (db: Queryable) => Promise<void>;

/** What a primers folder holds. */
export interface PrimerModules {
  readonly primers: AnyPrimer[];
  readonly setups: ModuleSetup[];
}

const MODULE = /\.(ts|mts|js|mjs)$/;
const SKIP = /\.(d|test|spec)\.[mc]?[jt]s$/;

/**
 * Imports every module under `dir` (recursively, in path order) and collects the primers it
 * exports and its `setup` function, if any.
 */
export async function loadPrimers(dir: string): Promise<PrimerModules> {
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
  for (const file of files) {
    const module = (await import(pathToFileURL(join(root, file)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (isPrimer(value) && !primers.includes(value)) primers.push(value);
      if (name === "setup" && typeof value === "function") setups.push(value as ModuleSetup);
    }
  }
  return { primers, setups };
}
