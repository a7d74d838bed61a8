import { LRUCache } from "lru-cache";
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
  /** Least recently used first out, by count and by bytes; `undefined`: keeps nothing. */
  private readonly entries: LRUCache<string, Entry> | undefined;
  private readonly maxBytes: number;
  private hits = 0;
  /** Counted by the fast path (see {@link ResponseCacheStats.direct}). */
  direct = 0;

  constructor(
    /** The memory layer whose entries the responses are checked against. */
    readonly memory: MemoryLayer,
    options: ResponseCacheOptions = {},
  ) {
    const maxEntries = Math.floor(options.maxEntries ?? 10_000);
    this.maxBytes = Math.floor(options.maxBytes ?? 32 * 2 ** 20);
    // lru-cache takes positive caps only; a cap of nothing keeps nothing, as it always did.
    this.entries =
      maxEntries >= 1 && this.maxBytes >= 1
        ? new LRUCache<string, Entry>({
            max: maxEntries,
            maxSize: this.maxBytes,
            sizeCalculation: (entry) => entry.size,
          })
        : undefined;
  }

  /** The response for a request signature, if it is still valid. */
  get(signature: string): SharedResponse | undefined {
    const entry = this.entries?.get(signature);
    if (entry === undefined) return undefined;
    const { held } = entry;
    for (let i = 0; i < held.length; i++) {
      if (!(held[i] as MemoryEntry).live) return this.drop(signature);
    }
    if (entry.freshUntil <= Date.now()) return this.drop(signature);
    // The products it was built from were used too: they stay in the memory layer as long.
    for (let i = 0; i < held.length; i++) this.memory.get((held[i] as MemoryEntry).product.key);
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
    if (this.entries === undefined || size > this.maxBytes) return false;
    // Replaces the signature's answer and evicts the least recently used past either cap.
    this.entries.set(signature, { response, held, freshUntil, size });
    return true;
  }

  /** How much the cache holds and how often it served. */
  stats(): ResponseCacheStats {
    return {
      entries: this.entries?.size ?? 0,
      bytes: this.entries?.calculatedSize ?? 0,
      hits: this.hits,
      direct: this.direct,
    };
  }

  private drop(signature: string): undefined {
    this.entries?.delete(signature);
    return undefined;
  }
}
