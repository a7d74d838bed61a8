import { type App, type AppOptions, createApp } from "../../src/app.ts";

/** A started gateway on a random port, with a GraphQL client. */
export interface TestApp {
  readonly app: App;
  readonly url: string;
  /** POSTs one GraphQL operation and returns the parsed response body. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{
    data?: T;
    errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
  }>;
  stop(): Promise<void>;
}

/** Starts a gateway for tests on 127.0.0.1 with a random port. */
export async function startTestApp(
  options: Omit<AppOptions, "port" | "host"> & { databaseUrl: string },
): Promise<TestApp> {
  const app = createApp({
    ...options,
    port: 0,
    host: "127.0.0.1",
    // Tests poll and flush fast by default.
    jobs: {
      pollInterval: 100,
      concurrency: 2,
      readFlushMs: 50,
      reapIntervalMs: 200,
      ...options.jobs,
    },
  });
  const { url } = await app.start();
  return {
    app,
    url,
    async gql(query, variables, headers = {}) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as never;
    },
    stop: () => app.stop(),
  };
}
