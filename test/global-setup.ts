import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbedded } from "../src/db/embedded.ts";
import { silentLogger } from "../src/logger.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A server URL on which each test file creates its own database. */
    serverUrl: string;
    /** Where reliability tests append their counts (test/helpers/reliability.ts). */
    reliabilityLog: string;
  }
}

/**
 * Uses DATABASE_URL when it is set; otherwise starts one embedded PostgreSQL for the whole run.
 * Either way each test file makes its own database on that server (test/helpers/db.ts).
 */
export default async function setup(project: TestProject) {
  const workDir = await mkdtemp(join(tmpdir(), "kck-test-"));
  // The embedded server runs as the postgres OS user when tests run as root: let it pass through.
  await chmod(workDir, 0o711);
  const reliabilityLog = join(workDir, "reliability.jsonl");
  project.provide("reliabilityLog", reliabilityLog);
  const url = process.env["DATABASE_URL"];
  let stop = async () => {};
  if (url) {
    project.provide("serverUrl", url);
  } else {
    const embedded = await startEmbedded({ dataDir: join(workDir, "db"), log: silentLogger() });
    project.provide("serverUrl", embedded.url);
    stop = embedded.stop;
  }
  return async () => {
    await printReliabilityCounts(reliabilityLog);
    await stop();
    await rm(workDir, { recursive: true, force: true });
  };
}

async function printReliabilityCounts(path: string): Promise<void> {
  const text = await readFile(path, "utf8").catch(() => "");
  if (text === "") return;
  const totals: Record<string, number> = {};
  for (const line of text.trim().split("\n")) {
    for (const [name, n] of Object.entries(JSON.parse(line) as Record<string, number>)) {
      totals[name] = (totals[name] ?? 0) + n;
    }
  }
  // The four the suite promises first, in a fixed order (0 when no file counted one).
  const order = ["inputsTried", "faultsInjected", "requestsFailedDuringOutages", "dataLost"];
  const names = [...order, ...Object.keys(totals).filter((name) => !order.includes(name))];
  const shown = names.map((name) => `${name}: ${totals[name] ?? 0}`).join(", ");
  console.log(`\nReliability counts: ${shown}\n`);
}
