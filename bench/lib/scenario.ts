import type { BenchDatabase } from "./database.ts";
import type { ServerHandle } from "./servers.ts";
import type { TargetSpec } from "./target.ts";

/** How long and how hard the bench runs: `--quick` shrinks everything to prove it still works. */
export interface BenchSettings {
  quick: boolean;
  /** Rounds per contender; medians are taken over them. */
  rounds: number;
  /** Seconds per round. */
  seconds: number;
  /** Seconds of warm-up per contender before the first round. */
  warmupSeconds: number;
  /** Concurrent connections of the load generator. */
  connections: number;
}

/** What a scenario gets from the harness; everything it starts is stopped after it. */
export interface BenchContext {
  readonly settings: BenchSettings;
  /** A fresh, migrated database for this scenario, dropped after it. */
  database(label: string): Promise<BenchDatabase>;
  /**
   * Starts targets in child processes, one each (all in one under --quick), in order; KCK ones
   * are CPU-profiled under --profile.
   */
  start(targets: readonly { spec: TargetSpec; label: string }[]): Promise<ServerHandle[]>;
  /** Progress to stderr. */
  log(message: string): void;
}

/** One line of a scenario's table. */
export interface Row {
  label: string;
  /** Requests per second (median over rounds); none where the scenario is not a throughput. */
  rps?: number;
  /** What the scenario counts per request when it is not one (keys per request, say). */
  perRequest?: { count: number; unit: string };
  /** Median over rounds of each round's p50 and p99, in ms. */
  p50?: number;
  p99?: number;
  /** Throughput relative to the scenario's reference row. */
  ratio?: number;
  /** Extra facts (SQL reads per operation, memory). */
  note?: string;
}

/** A target of the issue and whether this run met it. */
export interface Verdict {
  goal: string;
  measured: string;
  met: boolean;
}

/** What a scenario reports. */
export interface ScenarioReport {
  rows: Row[];
  verdicts: Verdict[];
  notes?: string[];
}

/** A scenario: one file under bench/scenarios, one line in bench/scenarios/index.ts. */
export interface Scenario {
  /** For --only and database names. */
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioReport>;
}
