import { appendFile } from "node:fs/promises";
import { inject } from "vitest";

/** What the reliability suite counts; the run prints the totals at the end. */
export interface ReliabilityCounts {
  inputsTried?: number;
  faultsInjected?: number;
  requestsFailedDuringOutages?: number;
  dataLost?: number;
  /** WebSocket messages refused for their size (close 1009). */
  wsOversizeRefused?: number;
  /** Subscriptions refused past the per-connection cap. */
  wsSubscriptionsCapped?: number;
  /** Products an anonymous flood of new keys got stored (test/reliability/flood.test.ts). */
  floodRowsAdded?: number;
  /** Of those, how many the store kept once eviction ran. */
  floodRowsKept?: number;
}

/** Adds counts to this run's reliability totals. */
export async function recordCounts(counts: ReliabilityCounts): Promise<void> {
  await appendFile(inject("reliabilityLog"), `${JSON.stringify(counts)}\n`);
}
