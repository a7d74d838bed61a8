import { type App, createApp } from "../../src/app.ts";
import type { JobsOptions } from "../../src/jobs/worker.ts";
import type { ModuleSetup } from "../../src/load-primers.ts";
import type { AnyPrimer } from "../../src/primer/define-primer.ts";

/** A started gateway on a random port, with a GraphQL client. */
export interface TestApp {
  readonly app: App;
  readonly url: string;
  /** POSTs one GraphQL operation and returns the parsed response body. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{
    data?: T;
    errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
  }>;
  stop(): Promise<void>;
}

/** Starts a gateway for tests on 127.0.0.1 with a random port. */
export async function startTestApp(options: {
  databaseUrl: string;
  primers: readonly AnyPrimer[];
  setups?: readonly ModuleSetup[];
  /** Job options; tests poll and flush fast by default. */
  jobs?: JobsOptions;
}): Promise<TestApp> {
  const app = createApp({
    ...options,
    port: 0,
    host: "127.0.0.1",
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
    async gql(query, variables) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as never;
    },
    stop: () => app.stop(),
  };
}
