import { readFileSync } from "node:fs";

/**
 * This process's limit of open files, read from /proc on Linux; undefined where it cannot be
 * read. Node raises its soft limit to the hard one when it starts (so a shell's `ulimit -Sn
 * 1024` does not matter, only `ulimit -Hn`), and so does every child it forks.
 */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s+/)[3];
    if (soft === undefined) return undefined;
    return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return undefined;
  }
}
