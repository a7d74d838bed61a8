import type { MemoryEntry, MemoryLayer } from "../../engine/memory-layer.ts";
import type { ParsedKey } from "../../keys.ts";
import type { CapturedAnswer, StoredProduct } from "../../types.ts";

/** Options for {@link ResponseCache}. */
export interface ResponseCacheOptions {
  /**
   * Most responses kept; the least recently used go first.
   * @default 10000
   */
  maxEntries?: number;
  /**
   * Most bytes of responses kept (body and request signature).
   * @default 33554432 (32 MiB)
   */
  maxBytes?: number;
}

/**
 * A kept answer of a pure product read: what it is made of, and the products it was built
 * from (their freshness gives its `Cache-Control` at each send; reading them is counted).
 */
export interface SharedResponse {
  readonly answer: CapturedAnswer;
  /** The body, UTF-8 encoded once. */
  readonly body: Buffer;
  /** The products it was built from, each once. */
  readonly products: readonly StoredProduct[];
  /** Their keys, parsed, as a read of them reports them. */
  readonly targets: readonly ParsedKey[];
}

interface Entry {
  readonly response: SharedResponse;
  /** The memory layer's entries of the very products the response was built from. */
  readonly held: readonly MemoryEntry[];
  /** The earliest freshUntil among them, in ms (Infinity: none). */
  readonly freshUntil: number;
  readonly size: number;
  /** Used since the eviction hand last passed (second-chance LRU). */
  used: boolean;
}

/** What the cache holds and how it served, for the bench and metrics. */
export interface ResponseCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  /** Pure queries the fast path answered through yoga's envelop, without its HTTP layer. */
  direct: number;
}

const ENTRY_OVERHEAD = 300;

/**
 * Serialised responses of pure product reads, each valid while every product it was built from
 * is still held by the memory layer (the very copy it was built from) and fresh. The memory
 * layer drops a copy on its key's change event, so a response is never served past another
 * instance's change once its event has arrived, and never past its products' freshness (stale
 * ones go the full way, which serves them and starts their refresh). One serialisation per
 * version of its products.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private bytes = 0;
  private hits = 0;
  /** Counted by the fast path (see {@link ResponseCacheStats.direct}). */
  direct = 0;

  constructor(
    /** The memory layer whose entries the responses are checked against. */
    readonly memory: MemoryLayer,
    options: ResponseCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxBytes = options.maxBytes ?? 32 * 2 ** 20;
  }

  /** The response for a request signature, if it is still valid. */
  get(signature: string): SharedResponse | undefined {
    const entry = this.entries.get(signature);
    if (entry === undefined) return undefined;
    const { held } = entry;
    for (let i = 0; i < held.length; i++) {
      if (!(held[i] as MemoryEntry).live) return this.drop(signature, entry);
    }
    if (entry.freshUntil <= Date.now()) return this.drop(signature, entry);
    // A hit only sets flags (here and on the products' entries), never reorders a map.
    for (let i = 0; i < held.length; i++) (held[i] as MemoryEntry).used = true;
    entry.used = true;
    this.hits++;
    return entry.response;
  }

  /**
   * Keeps a response, if the memory layer holds every product it was built from (those very
   * objects) and all are fresh; returns whether it was kept.
   */
  set(signature: string, response: SharedResponse): boolean {
    const { products } = response;
    if (products.length === 0) return false;
    let freshUntil = Number.POSITIVE_INFINITY;
    const held: MemoryEntry[] = [];
    for (const product of products) {
      const entry = this.memory.entryOf(product);
      if (entry === undefined) return false;
      held.push(entry);
      if (product.freshUntil !== null) {
        freshUntil = Math.min(freshUntil, product.freshUntil.getTime());
      }
    }
    if (freshUntil <= Date.now()) return false;
    const size =
      ENTRY_OVERHEAD +
      2 * signature.length +
      2 * response.body.length +
      64 * response.answer.headers.length +
      48 * held.length;
    if (size > this.maxBytes) return false;
    const old = this.entries.get(signature);
    if (old) this.drop(signature, old);
    this.entries.set(signature, { response, held, freshUntil, size, used: false });
    this.bytes += size;
    // Second-chance LRU, as in the memory layer.
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Entry];
      if (entry.used) {
        entry.used = false;
        this.entries.delete(oldest);
        this.entries.set(oldest, entry);
      } else this.drop(oldest, entry);
    }
    return true;
  }

  /** How much the cache holds and how often it served. */
  stats(): ResponseCacheStats {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, direct: this.direct };
  }

  private drop(signature: string, entry: Entry): undefined {
    this.entries.delete(signature);
    this.bytes -= entry.size;
    return undefined;
  }
}
