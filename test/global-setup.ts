import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbedded } from "../src/db/embedded.ts";
import { silentLogger } from "../src/logger.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A server URL on which each test file creates its own database. */
    serverUrl: string;
  }
}

/**
 * Uses DATABASE_URL when it is set; otherwise starts one embedded PostgreSQL for the whole run.
 * Either way each test file makes its own database on that server (test/helpers/db.ts).
 */
export default async function setup(project: TestProject) {
  const url = process.env["DATABASE_URL"];
  if (url) {
    project.provide("serverUrl", url);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), "kck-test-"));
  const embedded = await startEmbedded({ dataDir, log: silentLogger() });
  project.provide("serverUrl", embedded.url);
  return async () => {
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
