import type { Runner } from "graphile-worker";
import { messageOf } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** Options for {@link superviseRunner}. */
export interface SupervisedRunnerOptions {
  /** Starts a graphile-worker runner (graphile-worker's `run`). */
  start: () => Promise<Runner>;
  /**
   * Called after a runner stopped by itself, before the next one starts: frees what it held
   * (its pools' liveness locks, so that its locked jobs are unlocked and run again).
   */
  onExit: () => Promise<void>;
  log: Logger;
  /** The first wait before a new runner starts, in ms; it doubles while starts fail. @default 500 */
  minDelayMs?: number;
  /** The longest wait between starts, in ms. @default 30000 */
  maxDelayMs?: number;
}

/** A graphile-worker runner that is replaced when it stops by itself. */
export interface SupervisedRunner {
  /** Stops the current runner (waiting for its running jobs) and starts no other; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a runner and keeps one running. graphile-worker shuts a worker pool down for good when
 * it cannot record a job's outcome (the database went away just as a job ended); without a new
 * runner this process would silently run no job again. The first start's failure is thrown;
 * later ones are retried with a doubling wait.
 */
export async function superviseRunner(options: SupervisedRunnerOptions): Promise<SupervisedRunner> {
  const minDelay = options.minDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const { log } = options;
  let current: Runner | undefined = await options.start();
  let starting: Promise<void> | undefined;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = minDelay;

  const watch = (runner: Runner): void => {
    const ended = (error?: unknown): void => {
      if (stopping || current !== runner) return;
      current = undefined;
      log.error(
        { err: error === undefined ? undefined : messageOf(error) },
        "the job worker stopped by itself; starting a new one",
      );
      starting = options.onExit().then(
        () => later(),
        (exitError: unknown) => {
          log.warn({ err: messageOf(exitError) }, "could not free the stopped job worker's locks");
          later();
        },
      );
    };
    runner.promise.then(() => ended(), ended);
  };

  const later = (): void => {
    if (stopping) return;
    timer = setTimeout(() => {
      timer = undefined;
      starting = restart();
    }, delay);
  };

  const restart = async (): Promise<void> => {
    if (stopping) return;
    try {
      const runner = await options.start();
      if (stopping) {
        await runner.stop();
        return;
      }
      current = runner;
      delay = minDelay;
      log.warn("a new job worker is running");
      watch(runner);
    } catch (error) {
      delay = Math.min(maxDelay, delay * 2);
      log.warn({ err: messageOf(error), retryInMs: delay }, "could not start a new job worker");
      later();
    }
  };

  watch(current);
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearTimeout(timer);
        await starting;
        const runner = current;
        current = undefined;
        await runner?.stop();
      })();
      return stopped;
    },
  };
}
