import { KckError } from "../errors.ts";

/**
 * Runs a compute, abandoning it (and aborting its signal) after `ms`, or when `stopping` aborts.
 */
export async function withTimeout<T>(
  stopping: AbortSignal,
  key: string,
  ms: number,
  controller: AbortController,
  run: () => Promise<T> | T,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const abandon = new Promise<never>((_, reject) => {
    const stop = (reason: Error) => {
      controller.abort(reason);
      reject(reason);
    };
    timer = setTimeout(
      () =>
        stop(
          new KckError("TIMEOUT", `Computing ${key} took longer than ${ms} ms and was abandoned.`),
        ),
      ms,
    );
    const onStopping = () =>
      stop(new KckError("UNAVAILABLE", `Computing ${key} was abandoned because KCK is stopping.`));
    if (stopping.aborted) onStopping();
    else
      stopping.addEventListener("abort", onStopping, {
        once: true,
        signal: controller.signal,
      });
  });
  try {
    return await Promise.race([Promise.resolve().then(run), abandon]);
  } finally {
    clearTimeout(timer);
    if (!controller.signal.aborted) controller.abort(new Error("The compute finished."));
  }
}
