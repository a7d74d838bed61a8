import { KckError, messageOf } from "../errors.ts";

/** The validators a previous answer carried, sent back to ask "has it changed since?". */
export interface Validators {
  /** The previous answer's ETag header. */
  readonly etag?: string | null | undefined;
  /** The previous answer's Last-Modified header. */
  readonly lastModified?: string | null | undefined;
}

/** Options for {@link conditionalFetch}. */
export interface ConditionalFetchOptions {
  /** Sent as If-None-Match / If-Modified-Since; absent: an unconditional GET. */
  previous?: Validators | undefined;
  /** Gives up after this many milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Aborts the request (pass a compute's `ctx.signal`). */
  signal?: AbortSignal;
  /** More request headers. */
  headers?: Record<string, string>;
}

/** The answer to a conditional GET. */
export type ConditionalAnswer =
  | { readonly notModified: true }
  | {
      readonly notModified: false;
      /** The 2xx response, body unread. */
      readonly response: Response;
      /** Validators to keep for the next request. */
      readonly etag: string | null;
      readonly lastModified: string | null;
    };

/**
 * GETs a URL, conditionally when validators of a previous answer are given: a 304 answer comes
 * back as `{ notModified: true }` (return `ctx.unchanged()` then, so that only freshness
 * moves). Any other answer than 2xx or 304, a network failure or a timeout throws
 * COMPUTE_FAILED with a message naming the URL, so that the job queue retries it with backoff.
 */
export async function conditionalFetch(
  url: string,
  options: ConditionalFetchOptions = {},
): Promise<ConditionalAnswer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (options.previous?.etag) headers["if-none-match"] = options.previous.etag;
  if (options.previous?.lastModified) headers["if-modified-since"] = options.previous.lastModified;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal, redirect: "follow" });
  } catch (error) {
    if (timeout.aborted) {
      throw new KckError("COMPUTE_FAILED", `GET ${url} did not answer within ${timeoutMs} ms.`);
    }
    throw new KckError("COMPUTE_FAILED", `GET ${url} failed: ${messageOf(error)}.`, {
      cause: error,
    });
  }
  if (response.status === 304) {
    await response.body?.cancel();
    return { notModified: true };
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new KckError(
      "COMPUTE_FAILED",
      `GET ${url} answered ${response.status} ${response.statusText}; expected 200 or 304.`,
    );
  }
  return {
    notModified: false,
    response,
    etag: response.headers.get("etag"),
    lastModified: response.headers.get("last-modified"),
  };
}
