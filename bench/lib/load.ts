import autocannon, { type Request } from "autocannon";

/** What one load run gives. */
export interface LoadResult {
  /** Completed requests per second. */
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  requests: number;
}

/** What to send in one load run. */
export interface LoadSpec {
  /** The same body on every request. */
  body?: string;
  /** A new body for every request (random keys, say); takes precedence over `body`. */
  nextBody?: () => string;
}

/** Options for {@link runLoad}. */
export interface LoadOptions {
  connections: number;
  /** Seconds to run. */
  seconds: number;
}

/**
 * Runs autocannon in this process against `url` with POSTed JSON bodies. Any error, timeout or
 * non-2xx answer fails the run: a fast wrong answer is not a result.
 */
export async function runLoad(
  url: string,
  spec: LoadSpec,
  options: LoadOptions,
): Promise<LoadResult> {
  const { nextBody } = spec;
  const result = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    connections: options.connections,
    duration: options.seconds,
    // autocannon checks for the end at each sample: sample often, so short runs end on time.
    sampleInt: 100,
    ...(nextBody
      ? {
          requests: [
            {
              setupRequest: (request: Request) => {
                request.body = nextBody();
                return request;
              },
            },
          ],
        }
      : { body: spec.body ?? "" }),
  });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) {
    throw new Error(
      `Load on ${url} had ${result.errors} errors, ${result.timeouts} timeouts and ${result.non2xx} non-2xx answers of ${result.requests.total}.`,
    );
  }
  return {
    rps: result.requests.total / Math.max(result.duration, 0.001),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
  };
}
