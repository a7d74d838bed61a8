/**
 * What the bench measures: a server in a child process (a baseline or KCK), described by a
 * spec that travels to the child as JSON.
 */

/** The kinds of server the bench can start; each is one file under bench/baselines or lib. */
export type TargetKind =
  | "node-http"
  | "yoga-constant"
  | "yoga-response-cache"
  | "pg-primary-key"
  | "pg-any"
  | "kck";

/** Which KCK per-instance layers run, and their caps. */
export interface KckLayers {
  /** The product memory layer: false turns it off. @default KCK's defaults */
  memory?: false | { maxEntries?: number; maxBytes?: number };
  /** The response fast path: false turns it off. @default KCK's defaults */
  responseCache?: false | { maxEntries?: number; maxBytes?: number };
}

/** A server to start: its kind and what it needs. */
export interface TargetSpec extends KckLayers {
  kind: TargetKind;
  /** The database of the scenario (pg baselines and KCK). */
  databaseUrl?: string;
  /** The constant response body (node-http). */
  body?: string;
  /** The primers folder a KCK target serves. @default bench/primers */
  primersDir?: string;
}

/** A started server, inside its child process. */
export interface RunningTarget {
  /** Where it serves GraphQL (or the same JSON). */
  url: string;
  /** Counters the bench reads between runs (SQL statements, layer sizes). */
  stats?(): Record<string, number>;
  stop(): Promise<void>;
}
