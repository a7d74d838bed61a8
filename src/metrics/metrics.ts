import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { EngineHooks } from "../engine/engine-hooks.ts";
import type { ChangeEvent } from "../sql/notify.ts";
import type { QueueDepth } from "./queue-depth.ts";

/** Options for {@link createMetrics}. */
export interface MetricsOptions {
  /** Reads the job queue's depth at each scrape; absent or undefined: reported as 0. */
  queueDepth?: () => Promise<QueueDepth | undefined>;
  /** Also export Node's process metrics (CPU, memory, event loop, GC). @default false */
  processMetrics?: boolean;
  /** Called when reading the queue depth fails during a scrape. */
  onError?: (error: unknown) => void;
}

/**
 * One app's Prometheus metrics, in a registry of its own (not prom-client's global one), so
 * that many apps can run in one process. The engine, the gateway and the subscription layer
 * report to it through its methods.
 */
export interface KckMetrics {
  /** The registry to scrape: `await registry.metrics()` is the Prometheus text. */
  readonly registry: Registry;
  /** Hooks to pass to the engine as `EngineOptions.metrics`. */
  readonly engine: Required<Omit<EngineHooks, "onDependencies">>;
  /** Counts a change event this instance heard and, when it carries its time, its lag. */
  changeEvent(event: ChangeEvent, receivedAt?: number): void;
  /** Counts a subscription opened on a primer's field. */
  subscriptionOpened(primer: string): void;
  /** Counts a subscription on a primer's field that ended. */
  subscriptionClosed(primer: string): void;
}

// Computes run from a millisecond (a cache read) to minutes (a remote report).
const COMPUTE_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Creates an app's metrics: its registry, its counters, and the hooks that move them. */
export function createMetrics(options: MetricsOptions = {}): KckMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const perPrimer = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ["primer"] as const, registers });

  const hits = perPrimer("kck_product_hits_total", "Product reads served fresh from the cache.");
  const misses = perPrimer(
    "kck_product_misses_total",
    "Product reads that found the product missing or expired, so computed it before serving.",
  );
  const stale = perPrimer(
    "kck_product_stale_serves_total",
    "Product reads served stale while a refresh ran in the background.",
  );
  const computes = perPrimer(
    "kck_computes_total",
    "Computes (first computes and refreshes) that succeeded and were stored.",
  );
  const failures = perPrimer(
    "kck_compute_failures_total",
    "Computes (first computes and refreshes) that failed; the last good value stays.",
  );
  const duration = new Histogram({
    name: "kck_compute_duration_seconds",
    help: "How long computes took, failed ones included.",
    labelNames: ["primer"] as const,
    buckets: COMPUTE_BUCKETS,
    registers,
  });
  const subscriptions = new Gauge({
    name: "kck_open_subscriptions",
    help: "GraphQL subscriptions open on this instance.",
    labelNames: ["primer"] as const,
    registers,
  });
  const events = new Counter({
    name: "kck_change_events_total",
    help: "Change events this instance heard, from any instance.",
    labelNames: ["op"] as const,
    registers,
  });
  const lag = new Histogram({
    name: "kck_change_event_lag_seconds",
    help: "Time from the database writing a change event to this instance hearing it (clock skew included).",
    buckets: LAG_BUCKETS,
    registers,
  });
  const { queueDepth, onError } = options;
  new Gauge({
    name: "kck_queue_depth",
    help: "Jobs in the job queue by state (ready, scheduled, running, failed); 0 without a queue.",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      let depth: QueueDepth | undefined;
      try {
        depth = await queueDepth?.();
      } catch (error) {
        onError?.(error);
      }
      for (const state of ["ready", "scheduled", "running", "failed"] as const)
        this.set({ state }, depth?.[state] ?? 0);
    },
  });

  return {
    registry,
    engine: {
      onHit: (primer) => hits.inc({ primer }),
      onMiss: (primer) => misses.inc({ primer }),
      onStale: (primer) => stale.inc({ primer }),
      onCompute(primer, ms) {
        computes.inc({ primer });
        duration.observe({ primer }, ms / 1000);
      },
      onFailure(primer, ms) {
        failures.inc({ primer });
        duration.observe({ primer }, ms / 1000);
      },
    },
    changeEvent(event, receivedAt = Date.now()) {
      events.inc({ op: String(event.op) });
      // Clocks of two machines differ a little: a negative lag is reported as none.
      if (typeof event.t === "number") lag.observe(Math.max(0, receivedAt - event.t) / 1000);
    },
    subscriptionOpened: (primer) => subscriptions.inc({ primer }),
    subscriptionClosed: (primer) => subscriptions.dec({ primer }),
  };
}
