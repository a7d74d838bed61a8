import { LRUCache } from "lru-cache";
import { freshnessOf, type StoredProduct } from "./product.ts";

/** Options for {@link MemoryLayer}. */
export interface MemoryLayerOptions {
  /**
   * Most products kept; the least recently used go first.
   * @default 100000
   */
  maxEntries?: number;
  /**
   * Most bytes kept, estimated from each value's JSON length (two bytes a character, as V8
   * keeps most strings, plus the key and a fixed overhead per entry).
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
}

/** What a memory layer holds and how it served, for the bench and metrics. */
export interface MemoryLayerStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
}

/**
 * One kept product. Others may hold on to it (the response cache does) and ask whether it is
 * still kept: `live` turns false the moment it is dropped, for whatever reason.
 */
export interface MemoryEntry {
  readonly product: StoredProduct;
  readonly size: number;
  /** Whether the layer still holds it. */
  live: boolean;
}

// Keys of recent change events kept to tell whether a read that began before them may still be
// stored; older ones are forgotten and such reads simply are not stored.
const RECENT_EVENTS = 10_000;
const ENTRY_OVERHEAD = 200;

/**
 * A per-instance copy of recently read products in front of PostgreSQL, kept coherent by the
 * change events: an event for a key drops its copy at once, so once another instance's change
 * event has arrived, this layer never serves the older value. A read that began before an event
 * for one of its keys is not stored (its rows may predate the change). While the event
 * connection is down the layer holds nothing, since events may be missed.
 *
 * Values are shared by every request that reads them, so they are frozen when stored.
 * Freshness is the engine's: a copy past its freshUntil is stale (served while a refresh runs)
 * and past its staleUntil is read again from the database.
 */
export class MemoryLayer {
  /** Least recently used first out, by count and by estimated bytes; `undefined`: keeps nothing. */
  private readonly entries: LRUCache<string, MemoryEntry> | undefined;
  private readonly maxBytes: number;
  private hits = 0;
  private misses = 0;
  /** Grows with every change event and every reset. */
  private epoch = 0;
  /** Key → epoch of its last change event, oldest first. */
  private readonly recent = new Map<string, number>();
  /** The latest epoch dropped from `recent` (or of a reset): reads begun before it are not stored. */
  private forgotten = 0;
  private suspended = false;

  constructor(options: MemoryLayerOptions = {}) {
    const maxEntries = Math.floor(options.maxEntries ?? 100_000);
    this.maxBytes = Math.floor(options.maxBytes ?? 64 * 2 ** 20);
    // lru-cache takes positive caps only; a cap of nothing keeps nothing, as it always did.
    this.entries =
      maxEntries >= 1 && this.maxBytes >= 1
        ? new LRUCache<string, MemoryEntry>({
            max: maxEntries,
            maxSize: this.maxBytes,
            sizeCalculation: (entry) => entry.size,
            // Evicted, replaced, dropped or cleared: whoever holds the entry sees it go at once.
            dispose: (entry) => {
              entry.live = false;
            },
          })
        : undefined;
  }

  /**
   * Products for these keys: the copies that may be served (fresh or stale), and the rest read
   * with `read` (one call, for the missing keys only) and kept for next time.
   */
  async read(
    keys: readonly string[],
    read: (missing: readonly string[]) => Promise<Map<string, StoredProduct>>,
  ): Promise<Map<string, StoredProduct>> {
    const found = new Map<string, StoredProduct>();
    const missing: string[] = [];
    const now = Date.now();
    for (const key of keys) {
      const product = this.get(key);
      const state = product === undefined ? "MISSING" : freshnessOf(product, now);
      if (product !== undefined && (state === "FRESH" || state === "STALE")) {
        found.set(key, product);
        this.hits++;
      } else {
        missing.push(key);
        this.misses++;
      }
    }
    if (missing.length === 0) return found;
    const ticket = this.epoch;
    const stored = await read(missing);
    for (const product of stored.values()) {
      this.store(product, ticket);
      found.set(product.key, product);
    }
    return found;
  }

  /** The copy of a key, if any, marking it recently used. */
  get(key: string): StoredProduct | undefined {
    return this.entries?.get(key)?.product;
  }

  /** The copy of a key, if any, without marking it used. */
  peek(key: string): StoredProduct | undefined {
    return this.entries?.peek(key)?.product;
  }

  /** The entry that holds this very product object, if the layer holds it. */
  entryOf(product: StoredProduct): MemoryEntry | undefined {
    const entry = this.entries?.peek(product.key);
    return entry?.product === product ? entry : undefined;
  }

  /**
   * Grows with every change (an event, a write of this instance, a reset): work that began at
   * the same generation has seen every change this instance knows of.
   */
  get generation(): number {
    return this.epoch;
  }

  /** Drops a key's copy: its change event arrived, or this instance changed it. */
  changed(key: string): void {
    this.epoch++;
    this.entries?.delete(key);
    this.recent.delete(key);
    this.recent.set(key, this.epoch);
    if (this.recent.size > RECENT_EVENTS) {
      const [oldest, at] = this.recent.entries().next().value as [string, number];
      this.recent.delete(oldest);
      this.forgotten = at;
    }
  }

  /** Drops every copy, and keeps reads already under way from storing theirs. */
  clear(): void {
    this.epoch++;
    this.forgotten = this.epoch;
    this.recent.clear();
    this.entries?.clear();
  }

  /** Holds nothing and stores nothing until {@link resume}: the event connection is down. */
  suspend(): void {
    this.suspended = true;
    this.clear();
  }

  /** Starts storing again, empty: the event connection is back (events may have been missed). */
  resume(): void {
    this.suspended = false;
    this.clear();
  }

  /** How much the layer holds and how it served so far. */
  stats(): MemoryLayerStats {
    return {
      entries: this.entries?.size ?? 0,
      bytes: this.entries?.calculatedSize ?? 0,
      hits: this.hits,
      misses: this.misses,
    };
  }

  private store(product: StoredProduct, ticket: number): void {
    const { entries } = this;
    if (entries === undefined || this.suspended || product.computedAt === null) return;
    // An event arrived for this key (or may have, if forgotten) since the read began.
    if (this.forgotten > ticket || (this.recent.get(product.key) ?? 0) > ticket) return;
    const current = entries.peek(product.key);
    if (current && current.product.version > product.version) return;
    const size =
      ENTRY_OVERHEAD + 2 * (product.key.length + (JSON.stringify(product.value)?.length ?? 0));
    if (size > this.maxBytes) return;
    // Every reader now shares this one value: freezing it turns a resolver that would change it
    // for all of them into a loud TypeError instead.
    deepFreeze(product.value);
    // Replaces the key's copy (disposed: no longer live) and evicts the least recently used
    // past either cap.
    entries.set(product.key, { product, size, live: true });
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
