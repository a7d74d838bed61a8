import type { Engine } from "../engine/engine.ts";
import type { StoredProduct } from "../engine/product.ts";
import { KckError } from "../errors.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import type { ChangeEvent } from "../sql/notify.ts";
import type { ProductUpdate } from "../types.ts";
import { UpdateStream } from "./update-stream.ts";

/** Options for {@link Hub}. */
export interface HubOptions {
  engine: Engine;
  log: Logger;
  /**
   * How many updates a subscriber may fall behind before it skips to the latest.
   * @default 16
   */
  bufferSize?: number;
  /**
   * How many subscribers are handed a new version in one turn of the event loop; the next
   * slice follows after pending I/O.
   * @default 512
   */
  sliceSize?: number;
  /** The first wait before a failed re-read is tried again, in ms; it doubles up to 5 s. @default 100 */
  retryMs?: number;
  /** Told of every subscription opened and closed (the `kck_open_subscriptions` gauge). */
  metrics?: SubscriptionCounter;
}

/** Counts open subscriptions by primer. */
export interface SubscriptionCounter {
  subscriptionOpened(primer: string): void;
  subscriptionClosed(primer: string): void;
}

const MAX_RETRY_MS = 5000;

/** Everything this instance's subscribers to one key share. */
interface Entry {
  readonly target: ParsedKey;
  readonly streams: Set<UpdateStream>;
  /** The newest version read, built once and handed to every subscriber. */
  latest: ProductUpdate | undefined;
  /** The newest version a change event announced. */
  wanted: number;
  /** Read again even without a newer version (after a reconnect or an invalidation). */
  force: boolean;
  reading: boolean;
  /** The next read after a failed one, and how long it waits. */
  retry: NodeJS.Timeout | undefined;
  retryMs: number;
  /** Settles with the first read: the current value every new subscriber starts from. */
  readonly ready: Promise<void>;
  settle(error?: Error): void;
  /** The first subscriber's new-key limit, asked by the first read only. */
  admitNew?: (() => Promise<void>) | undefined;
}

const versionOf = (entry: Entry): number => entry.latest?.version ?? 0;

/**
 * This instance's subscriptions, by key. Per key and new version it reads the product once
 * and builds its update once, whatever the number of subscribers, then hands the same update
 * to each of them (each has its own bounded buffer). Change events from every instance tell
 * it when to read; after the change-event connection comes back it reads every subscribed
 * key once more, since events may have been missed meanwhile.
 */
export class Hub {
  /** Reads and deliveries so far, for metrics. */
  readonly stats = { reads: 0, updates: 0 };
  private readonly engine: Engine;
  private readonly log: Logger;
  private readonly bufferSize: number;
  private readonly sliceSize: number;
  private readonly retryMs: number;
  private readonly metrics: SubscriptionCounter | undefined;
  private readonly entries = new Map<string, Entry>();
  private readonly unsubscribe: (() => void)[];
  private closed = false;

  constructor(options: HubOptions) {
    this.engine = options.engine;
    this.log = options.log;
    this.bufferSize = options.bufferSize ?? 16;
    this.sliceSize = options.sliceSize ?? 512;
    this.retryMs = options.retryMs ?? 100;
    this.metrics = options.metrics;
    this.unsubscribe = [
      this.engine.onChange((event) => this.changed(event)),
      this.engine.onReconnect(() => void this.resync()),
    ];
  }

  /** How many keys have subscribers on this instance. */
  get size(): number {
    return this.entries.size;
  }

  /** The keys that have subscribers on this instance. */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /**
   * Subscribes to a product: the stream yields its current version (computed first if it is
   * missing) unless the client saw it already (`sinceVersion`), then every newer version.
   * Rejects when the product cannot be served.
   */
  async subscribe(
    target: ParsedKey,
    sinceVersion = 0,
    admitNew?: () => Promise<void>,
  ): Promise<UpdateStream> {
    if (this.closed) throw stopping();
    let entry = this.entries.get(target.key);
    const first = entry === undefined;
    if (entry === undefined) {
      entry = createEntry(target, this.retryMs);
      entry.admitNew = admitNew;
      this.entries.set(target.key, entry);
    }
    const current = entry;
    const stream = new UpdateStream(this.bufferSize, sinceVersion, (s) => this.leave(current, s));
    current.streams.add(stream);
    this.metrics?.subscriptionOpened(target.primer.name);
    if (first) void this.pump(current);
    try {
      await current.ready;
    } catch (error) {
      stream.end();
      throw error;
    }
    if (current.latest) stream.offer(current.latest);
    return stream;
  }

  /** Ends every subscription and stops listening. */
  close(): void {
    this.closed = true;
    for (const off of this.unsubscribe) off();
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) {
      clearTimeout(entry.retry);
      entry.settle(stopping());
      for (const stream of [...entry.streams]) stream.end();
    }
  }

  private changed(event: ChangeEvent): void {
    const entry = this.entries.get(event.k);
    if (entry === undefined) return;
    if (event.op === "invalidate") {
      // Someone is watching it: bring it back now rather than on some later read.
      entry.force = true;
    } else if (event.v > entry.wanted) {
      entry.wanted = event.v;
    }
    if (entry.force || entry.wanted > versionOf(entry)) void this.pump(entry);
  }

  /** Reads a key until it is at the newest version announced; one loop per key at a time. */
  private async pump(entry: Entry): Promise<void> {
    if (entry.reading) return;
    entry.reading = true;
    try {
      while (this.entries.get(entry.target.key) === entry) {
        const first = entry.latest === undefined;
        const wanted = entry.wanted;
        if (!first && !entry.force && wanted <= versionOf(entry)) break;
        entry.force = false;
        const product = await this.read(entry);
        if (product === undefined) break;
        this.deliver(entry, product);
        // A version below the one announced cannot be read; stop rather than spin.
        if (product.version < wanted && entry.wanted === wanted) entry.wanted = product.version;
      }
    } finally {
      entry.reading = false;
    }
  }

  /** One read of a key (computing it if it is missing or expired); undefined if it failed. */
  private async read(entry: Entry): Promise<StoredProduct | undefined> {
    let result: StoredProduct | Error;
    try {
      this.stats.reads++;
      // Subscribing to a key not stored yet counts against the subscriber's new-key limit.
      const admitNew = entry.latest === undefined ? entry.admitNew : undefined;
      entry.admitNew = undefined;
      [result] = (await this.engine.load(
        [entry.target],
        undefined,
        admitNew ? { admitNew } : undefined,
      )) as [StoredProduct | Error];
    } catch (error) {
      result = error instanceof Error ? error : new Error(String(error));
    }
    if (!(result instanceof Error)) return result;
    if (entry.latest === undefined) {
      // Nobody has a value yet: fail the subscriptions waiting for their first one.
      if (this.entries.get(entry.target.key) === entry) this.entries.delete(entry.target.key);
      entry.settle(result);
      for (const stream of [...entry.streams]) stream.end();
    } else {
      this.log.warn({ key: entry.target.key, err: result }, "subscribed product not re-read");
      this.retryLater(entry);
    }
    return undefined;
  }

  /**
   * Reads a key again after a failed read, with a growing wait: its subscribers would otherwise
   * stay on an old version until some later change, which may never come.
   */
  private retryLater(entry: Entry): void {
    if (entry.retry !== undefined || this.entries.get(entry.target.key) !== entry) return;
    const wait = entry.retryMs;
    entry.retryMs = Math.min(MAX_RETRY_MS, wait * 2);
    entry.retry = setTimeout(() => {
      entry.retry = undefined;
      if (this.entries.get(entry.target.key) !== entry) return;
      entry.force = true;
      void this.pump(entry);
    }, wait);
    entry.retry.unref();
  }

  private deliver(entry: Entry, product: StoredProduct): void {
    entry.retryMs = this.retryMs;
    if (product.computedAt !== null && product.version > versionOf(entry)) {
      const update: ProductUpdate = Object.freeze({
        key: product.key,
        version: product.version,
        value: product.value,
        notFound: product.notFound,
      });
      entry.latest = update;
      this.stats.updates++;
      offerInSlices([...entry.streams], update, this.sliceSize);
    }
    entry.settle();
  }

  /** After a reconnect: one read of every subscribed key, in one statement. */
  private async resync(): Promise<void> {
    const idle: Entry[] = [];
    for (const entry of this.entries.values()) {
      entry.force = true;
      if (!entry.reading && entry.latest !== undefined) idle.push(entry);
    }
    if (idle.length === 0) return;
    for (const entry of idle) entry.reading = true;
    let results: (StoredProduct | Error)[] = [];
    try {
      this.stats.reads += idle.length;
      results = await this.engine.load(idle.map((entry) => entry.target));
    } catch (error) {
      // Each key is read again on its own below, and retried until it can be.
      this.log.warn({ err: error }, "subscribed products not re-read after reconnecting");
    }
    idle.forEach((entry, i) => {
      const result = results[i];
      if (result !== undefined && !(result instanceof Error)) {
        entry.force = false;
        this.deliver(entry, result);
      }
      entry.reading = false;
      if (entry.force || entry.wanted > versionOf(entry)) void this.pump(entry);
    });
  }

  private leave(entry: Entry, stream: UpdateStream): void {
    // Once per stream: a stream calls back once, when it ends.
    this.metrics?.subscriptionClosed(entry.target.primer.name);
    entry.streams.delete(stream);
    if (entry.streams.size === 0 && this.entries.get(entry.target.key) === entry) {
      this.entries.delete(entry.target.key);
      clearTimeout(entry.retry);
    }
  }
}

/**
 * Offers an update to subscribers a slice at a time. Each offer starts that subscriber's
 * delivery (execution, serialisation, socket write) in promise callbacks, which all run before
 * the event loop moves on; with 10,000 subscribers offered at once, no message would leave
 * before all 10,000 deliveries had reached their write, and their garbage would all be alive
 * at once (and outlive young-generation collections). A slice's messages go out before the
 * next slice starts. A newer version offered meanwhile is fine: a stream never goes back.
 */
function offerInSlices(
  streams: readonly UpdateStream[],
  update: ProductUpdate,
  size: number,
): void {
  const offer = (from: number): void => {
    const end = Math.min(from + size, streams.length);
    for (let i = from; i < end; i++) streams[i]?.offer(update);
    if (end < streams.length) setImmediate(offer, end);
  };
  offer(0);
}

const stopping = (): KckError =>
  new KckError("UNAVAILABLE", "This KCK instance is stopping; subscribe again (to another one).");

function createEntry(target: ParsedKey, retryMs: number): Entry {
  let settled = false;
  let resolve: () => void = () => {};
  let reject: (error: Error) => void = () => {};
  const ready = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Subscribers that left before the first read settled must not leave a rejection unheard.
  ready.catch(() => {});
  return {
    target,
    streams: new Set(),
    latest: undefined,
    wanted: 0,
    force: false,
    reading: false,
    retry: undefined,
    retryMs,
    ready,
    settle(error) {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    },
  };
}
