import { type FSWatcher, readdirSync, watch } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

// What a saved change to primer code can be: modules, and the JSON they may import.
const CODE = /\.([mc]?[jt]sx?|json)$/;

/** Watches the primers folder and the modules its primers import from elsewhere. */
export interface CodeWatcher {
  /** Watches these files too (those outside the primers folder; the rest already are). */
  watchFiles(files: readonly string[]): void;
  /** Stops watching. */
  close(): void;
}

/** A watched folder: every code file in it (the primers tree), or the named ones. */
interface Watched {
  readonly watcher: FSWatcher;
  names: Set<string> | "all";
}

/** The primers folder and its subfolders, node_modules and dot-folders aside. */
function foldersUnder(root: string): string[] {
  const found = [root];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== "node_modules" && !entry.name.startsWith(".")) {
      found.push(...foldersUnder(join(root, entry.name)));
    }
  }
  return found;
}

/**
 * Calls `onChange` with the path of each saved code file: any under `primersDir`, and the files
 * given to {@link CodeWatcher.watchFiles}. It watches folders, one by one (Node 20's recursive
 * watch on Linux loses a file that an editor saves by writing a new one and renaming it over
 * the old), so saves in place and by rename are both seen, and new subfolders are picked up.
 */
export function watchCode(primersDir: string, onChange: (file: string) => void): CodeWatcher {
  const root = resolve(primersDir);
  const inRoot = (path: string) => !relative(root, path).startsWith("..");
  const folders = new Map<string, Watched>();
  let extra = new Map<string, Set<string>>();

  const open = (dir: string, names: Set<string> | "all"): void => {
    const known = folders.get(dir);
    if (known) {
      known.names = names;
      return;
    }
    try {
      const watched: Watched = {
        names,
        watcher: watch(dir, (_event, name) => {
          if (!name) return;
          const file = String(name);
          const wanted = watched.names === "all" ? CODE.test(file) : watched.names.has(file);
          if (wanted) onChange(join(dir, file));
          // A new folder in the primers tree: watch it (and say so, it may hold a primer).
          else if (watched.names === "all" && !CODE.test(file)) sync();
        }),
      };
      watched.watcher.on("error", () => {});
      folders.set(dir, watched);
    } catch {
      // A folder removed since it was listed: nothing to watch.
    }
  };

  const sync = (): void => {
    const wanted = new Map<string, Set<string> | "all">();
    try {
      for (const dir of foldersUnder(root)) wanted.set(dir, "all");
    } catch {
      wanted.set(root, "all");
    }
    for (const [dir, names] of extra) if (!wanted.has(dir)) wanted.set(dir, names);
    for (const [dir, watched] of folders) {
      if (!wanted.has(dir)) {
        watched.watcher.close();
        folders.delete(dir);
      }
    }
    for (const [dir, names] of wanted) open(dir, names);
  };

  sync();
  return {
    watchFiles(files) {
      extra = new Map();
      for (const file of files.map((f) => resolve(f))) {
        if (inRoot(file) || file.split(/[\\/]/).includes("node_modules")) continue;
        const names = extra.get(dirname(file)) ?? new Set<string>();
        names.add(basename(file));
        extra.set(dirname(file), names);
      }
      sync();
    },
    close() {
      for (const { watcher } of folders.values()) watcher.close();
      folders.clear();
    },
  };
}
