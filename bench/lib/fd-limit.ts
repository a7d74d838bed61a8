import { readFileSync } from "node:fs";

/**
 * This process's soft limit of open files (`ulimit -n`), read from /proc on Linux; undefined
 * where it cannot be read. Children inherit it, and Node cannot raise it itself.
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
