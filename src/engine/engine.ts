import { setMaxListeners } from "node:events";
import type { Db } from "../db/db.ts";
import { KckError } from "../errors.ts";
import { type ParsedKey, parseKey, primersByName, resolveKey } from "../keys.ts";
import { type Logger, silentLogger } from "../logger.ts";
import type { DeltaOf } from "../primer/augment-spec.ts";
import type { AnyPrimer, PrimerParams, PrimerValue } from "../primer/define-primer.ts";
import { readEdges } from "../sql/dependencies.ts";
import { expireProduct } from "../sql/invalidations.ts";
import { migrate } from "../sql/migrate.ts";
import type { ChangeEvent } from "../sql/notify.ts";
import { readProduct, readProducts } from "../sql/products.ts";
import { ChangeEvents } from "./change-events.ts";
import { markCodeChanges } from "./code-change.ts";
import type { EngineHooks } from "./engine-hooks.ts";
import { asError, type Chain } from "./flight.ts";
import { InProcessJobs } from "./in-process-jobs.ts";
import { LockReleases } from "./key-lock.ts";
import { KeyWaiters } from "./key-waiters.ts";
import { MemoryLayer, type MemoryLayerOptions } from "./memory-layer.ts";
import { asServed } from "./not-found.ts";
import type { AugmentOptions, AugmentPort, JobState, JobsPort, ValueCheck } from "./ports.ts";
import { PreLocks } from "./pre-locks.ts";
import { freshnessOf, type StoredProduct } from "./product.ts";
import { SingleFlight } from "./single-flight.ts";

/**
 * Options for {@link Engine.start}: settings, and the engine's ports (src/engine/ports.ts),
 * which the composition root (src/app.ts) builds.
 */
export interface EngineOptions {
  /**
   * Storage: the cache's database (its pools and sessions). The engine uses it; its owner
   * closes it.
   */
  db: Db;
  /** The primers this instance serves. */
  primers: readonly AnyPrimer[];
  /** Where the engine logs. @default silent */
  log?: Logger;
  /** How long a compute waits for another process that holds the same key's lock. @default 300000 */
  lockWaitMs?: number;
  /** How long a compute may run when its primer sets no timeout. @default 120000 */
  computeTimeoutMs?: number;
  /** Called on hits, misses, stale serves, computes and failures (metrics). @default none */
  metrics?: EngineHooks;
  /**
   * The per-instance memory layer in front of PostgreSQL for the gateway's reads (never for
   * the reads of a compute); false turns it off.
   * @default its own defaults (100000 entries, 64 MiB)
   */
  memory?: MemoryLayerOptions | false;
  /**
   * The job system that runs background work (a stale read's refresh, `prime`) and tracks
   * reads. @default none: that work runs in this process, and reads are not tracked
   */
  jobs?: JobsPort;
  /** Checks each computed value before it is stored. @default none: values are not checked */
  values?: ValueCheck;
  /**
   * Builds what applies deltas for {@link Engine.augment}; called once, with this engine, at
   * the end of its construction. @default none: augments are refused
   */
  augmenter?: (engine: Engine) => AugmentPort;
}

/** Options of {@link Engine.load}. */
export interface LoadOptions {
  /**
   * Asked before this load starts the compute of a key never stored (not one under way):
   * throws to refuse it (the key's entry is then that error). The gateway's new-key limit.
   */
  admitNew?: () => Promise<void>;
}

/**
 * The cache: reads products, computes the missing ones exactly once across every process on
 * the database, stores them with their dependency edges, and hears every change.
 */
export class Engine {
  readonly primers: ReadonlyMap<string, AnyPrimer>;
  readonly db: Db;
  /** The memory layer in front of the database, kept coherent by the change events; if on. */
  readonly memory: MemoryLayer | undefined;
  private readonly jobs: JobsPort;
  private readonly augmenter: AugmentPort | undefined;
  private readonly log: Logger;
  private readonly hooks: EngineHooks;
  private readonly waiters = new KeyWaiters();
  /** Reads of what the memory layer misses, and the compute locks they take for flights. */
  private readonly preLocks: PreLocks;
  private readonly flights: SingleFlight;
  private readonly background = new Set<Promise<unknown>>();
  private readonly events: ChangeEvents;
  private readonly stopping = new AbortController();

  private constructor(options: EngineOptions) {
    this.primers = primersByName(options.primers);
    this.db = options.db;
    this.log = options.log ?? silentLogger();
    this.hooks = options.metrics ?? {};
    // Every compute in flight listens for the stop (and stops listening when it ends): more than
    // Node's default ten at once is normal load, not a leak.
    setMaxListeners(0, this.stopping.signal);
    const memory = options.memory === false ? undefined : new MemoryLayer(options.memory);
    this.memory = memory;
    // Events may be missed until the connection is back: the memory layer must not serve.
    this.events = new ChangeEvents({ log: this.log, onLost: () => memory?.suspend() });
    // First: a process waiting for another's compute of the key wakes before anything else.
    this.events.onChange((event) => this.waiters.wake(event.k));
    this.events.onReconnect(() => this.waiters.wakeAll());
    // Compute locks go back through one place, whoever took them (see KeyLock).
    const releases = new LockReleases((work) => this.track(work));
    this.preLocks = new PreLocks({
      db: this.db,
      releases,
      flying: (key) => this.flights.has(key), // called only once the flights exist
      generation: () => memory?.generation ?? 0,
    });
    this.flights = new SingleFlight({
      host: {
        db: this.db,
        log: this.log,
        hooks: this.hooks,
        memory,
        stopping: this.stopping.signal,
        computeTimeoutMs: options.computeTimeoutMs ?? 120_000,
        load: (targets, chain) => this.load(targets, chain),
        parse: (key) => this.parse(key),
        resolve: (primer, params) => this.resolve(primer, params),
        checkValue: (primer, key, value) =>
          options.values?.check(primer, key, value) ?? Promise.resolve(),
      },
      preLocks: this.preLocks,
      releases,
      waiters: this.waiters,
      lockWaitMs: options.lockWaitMs ?? 300_000,
    });
    // Registered next, so that every later handler already sees the copy dropped.
    if (memory) {
      this.onChange((event) => memory.changed(event.k));
      this.onReconnect(() => memory.resume());
    }
    this.jobs =
      options.jobs ??
      new InProcessJobs({
        db: this.db,
        ensure: (target, mode) => this.flights.ensure(target, mode),
        track: (work) => this.track(work),
        logFailure: (key, error) => this.logFailure(key, error),
      });
    // Last: the augmenter gets an engine whose every part exists.
    this.augmenter = options.augmenter?.(this);
  }

  /** Migrates the database, starts listening for change events, and returns the engine. */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    const applied = await migrate(options.db);
    if (applied.length > 0) engine.log.info({ applied }, "applied migrations");
    await markCodeChanges(options.db, engine.primers.values(), engine.log);
    await engine.events.listen(options.db.url);
    return engine;
  }

  /** Stops background work and the change-event connection (the Db stays open). */
  async stop(): Promise<void> {
    this.stopping.abort(new Error("KCK is stopping."));
    await Promise.allSettled([...this.background]);
    await this.events.close();
    this.waiters.wakeAll();
  }

  /** Parses a key string against this instance's primers. */
  parse(key: string): ParsedKey {
    return parseKey(this.primers, key);
  }

  /** The parsed key of a primer's params; the primer must be one this instance serves. */
  resolve(primer: AnyPrimer, params: Readonly<Record<string, unknown>>): ParsedKey {
    if (this.primers.get(primer.name) !== primer) {
      throw new KckError(
        "UNKNOWN_PRIMER",
        `Primer "${primer.name}" is not served by this KCK instance; pass it in its primers.`,
      );
    }
    return resolveKey(primer, params);
  }

  /** Reads a product's value by key, computing it if it is missing or expired. */
  get(key: string): Promise<unknown>;
  /** Reads a product's value by primer and params, computing it if it is missing or expired. */
  get<P extends AnyPrimer>(primer: P, params: PrimerParams<P>): Promise<PrimerValue<P>>;
  async get(
    target: string | AnyPrimer,
    params?: Readonly<Record<string, unknown>>,
  ): Promise<unknown> {
    const parsed =
      typeof target === "string" ? this.parse(target) : this.resolve(target, params ?? {});
    const [result] = await this.load([parsed]);
    const product = result && asServed(result);
    if (product instanceof Error) throw product;
    return product?.value;
  }

  /** Reads many products' values by key in one SQL read; rejects on the first that fails. */
  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const results = await this.load(keys.map((key) => this.parse(key)));
    return results.map((result) => {
      const product = asServed(result);
      if (product instanceof Error) throw product;
      return product.value;
    });
  }

  /**
   * Serves many products with one SQL read: fresh ones as they are, stale ones at once while a
   * refresh runs, missing or expired ones computed first. One entry per target, in order, an
   * Error for each that failed.
   */
  async load(
    targets: readonly ParsedKey[],
    chain?: Chain,
    options?: LoadOptions,
  ): Promise<(StoredProduct | Error)[]> {
    const keys = targets.map((target) => target.key);
    const owner = {};
    // A compute reads its dependencies from the database, never from the memory layer: a
    // dependent refreshed here may run before this instance hears its dependency's event.
    const stored =
      this.memory && chain === undefined
        ? await this.memory.read(keys, (missing) => this.preLocks.read(missing, owner))
        : await readProducts(this.db, keys);
    try {
      this.jobs.noteReads(targets);
      return await Promise.all(
        targets.map(async (target) => {
          try {
            return await this.serve(target, stored.get(target.key), chain, options?.admitNew);
          } catch (error) {
            return asError(error);
          } finally {
            // A flight took the lock the read took, if it needed one; otherwise it goes now.
            this.preLocks.drop(target.key, owner);
          }
        }),
      );
    } finally {
      for (const key of keys) this.preLocks.drop(key, owner);
    }
  }

  /**
   * Counts fresh products served from a copy kept outside the engine (the response fast path)
   * as the reads they are, as `load` does: told to the jobs port, and counted as hits.
   */
  noteServed(targets: readonly ParsedKey[]): void {
    this.jobs.noteReads(targets);
    for (const target of targets) this.hooks.onHit?.(target.primer.name);
  }

  /** A product's stored state, without computing it; undefined when never stored. */
  inspect(key: string): Promise<StoredProduct | undefined> {
    return readProduct(this.db, this.parse(key).key);
  }

  /** Stored products by canonical key, in the order given, skipping keys never stored. */
  async productsByKey(keys: readonly string[]): Promise<StoredProduct[]> {
    if (keys.length === 0) return [];
    const stored = await readProducts(this.db, keys);
    return keys.flatMap((key) => stored.get(key) ?? []);
  }

  /**
   * The keys a product read when last computed (dependencies) and the keys that read it
   * (dependents). Takes a canonical key, as stored.
   */
  edges(key: string): Promise<{ dependencies: string[]; dependents: string[] }> {
    return readEdges(this.db, key);
  }

  /** Recomputes a product now, whatever its freshness, and returns what was stored. */
  refresh(key: string): Promise<StoredProduct> {
    return this.flights.ensure(this.parse(key), "force");
  }

  /**
   * Applies a delta to a product in place, in one transaction under its lock, and returns
   * what was stored; computes the product first if it is missing. With `expectedVersion`, a
   * product at another version is left as is and a CONFLICT error is thrown.
   */
  augment(key: string, delta: unknown, options?: AugmentOptions): Promise<StoredProduct>;
  /** The same by primer and params, with a typed delta. */
  augment<P extends AnyPrimer>(
    primer: P,
    params: PrimerParams<P>,
    delta: DeltaOf<P>,
    options?: AugmentOptions,
  ): Promise<StoredProduct>;
  augment(target: string | AnyPrimer, ...rest: unknown[]): Promise<StoredProduct> {
    const [parsed, delta, options] =
      typeof target === "string"
        ? [this.parse(target), rest[0], rest[1]]
        : [this.resolve(target, rest[0] as Record<string, unknown>), rest[1], rest[2]];
    if (this.augmenter === undefined) {
      return Promise.reject(
        new KckError(
          "NOT_AUGMENTABLE",
          `${parsed.key} cannot be augmented: this engine was started without an augmenter (createApp gives it one).`,
        ),
      );
    }
    return this.augmenter.apply(parsed, delta, options as AugmentOptions | undefined);
  }

  /** Marks a product expired so that its next read recomputes it; undefined when never stored. */
  async invalidate(key: string): Promise<StoredProduct | undefined> {
    const canonical = this.parse(key).key;
    const product = await expireProduct(this.db, canonical);
    this.noteWritten(canonical);
    return product;
  }

  /**
   * Tells this instance that a product (a canonical key) was just written here outside a
   * compute (an augment, an invalidation): read your own writes, its copy in the memory layer
   * goes now, before the change event comes back.
   */
  noteWritten(key: string): void {
    this.memory?.changed(key);
  }

  /**
   * The background job waiting or running for a product (a canonical key, as stored), from the
   * jobs port; undefined when there is none (always, without a job system).
   */
  refreshJob(key: string): Promise<JobState | undefined> {
    return this.jobs.refreshJob(key);
  }

  /**
   * Computes products ahead of demand: those missing, stale or expired (through the jobs port:
   * as jobs, or here and now without a job system). Every key is checked before any work
   * starts, so one bad key primes nothing. Failures are recorded on the products (lastError),
   * not thrown.
   *
   * @returns the canonical keys.
   */
  async prime(keys: readonly string[]): Promise<string[]> {
    const targets = keys.map((key) => this.parse(key));
    await this.jobs.prime(targets);
    return targets.map((target) => target.key);
  }

  /** Computes a product unless it is fresh: the background work of a stale read or a prime. */
  freshen(key: string): Promise<StoredProduct> {
    return this.flights.ensure(this.parse(key), "stale");
  }

  /** Calls `handler` with every change event this instance hears, from any instance. */
  onChange(handler: (event: ChangeEvent) => void): () => void {
    return this.events.onChange(handler);
  }

  /** Calls `handler` after the change-event connection was lost and is back (events may be missed). */
  onReconnect(handler: () => void): () => void {
    return this.events.onReconnect(handler);
  }

  private serve(
    target: ParsedKey,
    stored: StoredProduct | undefined,
    chain?: Chain,
    admitNew?: () => Promise<void>,
  ): StoredProduct | Promise<StoredProduct> {
    const state = freshnessOf(stored);
    if (state === "FRESH") {
      this.hooks.onHit?.(target.primer.name);
      return stored as StoredProduct;
    }
    if (state === "STALE") {
      this.hooks.onStale?.(target.primer.name);
      this.jobs.refreshLater(target);
      return stored as StoredProduct;
    }
    this.hooks.onMiss?.(target.primer.name);
    if (stored === undefined && admitNew && !this.flights.has(target.key)) {
      return admitNew().then(() => this.flights.ensure(target, "missing", chain));
    }
    return this.flights.ensure(target, "missing", chain);
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => this.logFailure("background", error))
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private logFailure(key: string, error: unknown): void {
    this.log.warn({ key, err: error }, "background compute failed");
  }
}
