import type { StoredProduct } from "./product.ts";

/** One load's keys waiting for the batch's read. */
interface Waiter {
  readonly keys: readonly string[];
  readonly owner: object;
  readonly resolve: (products: Map<string, StoredProduct>) => void;
  readonly reject: (error: unknown) => void;
}

/** How a batch is read: one key (which may take its compute lock), or many in one statement. */
export interface BatchReads {
  /** Reads one key for the load `owner` (the read that may take the key's compute lock). */
  one(key: string, owner: object): Promise<Map<string, StoredProduct>>;
  /** Reads many keys in one statement. */
  many(keys: readonly string[]): Promise<Map<string, StoredProduct>>;
}

/**
 * Gathers the product reads of every load that begins in one turn of the event loop (the
 * requests whose data arrived together) into one read: one `= any($1)` for all their keys,
 * since a product read carries nothing of the request that asked. A turn that asks for one key
 * only reads it the way a single miss is read (with the chance of taking its compute lock).
 * Each load gets its own keys' products.
 */
export class ReadBatch {
  private pending: { keys: Set<string>; waiters: Waiter[] } | undefined;

  constructor(private readonly reads: BatchReads) {}

  /** The stored products of `keys` (those stored), read with everything else asked this turn. */
  read(keys: readonly string[], owner: object): Promise<Map<string, StoredProduct>> {
    return new Promise((resolve, reject) => {
      let batch = this.pending;
      if (batch === undefined) {
        batch = { keys: new Set(), waiters: [] };
        this.pending = batch;
        // After the poll phase: every request whose data came in this turn has asked by then.
        setImmediate(() => this.flush());
      }
      for (const key of keys) batch.keys.add(key);
      batch.waiters.push({ keys, owner, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = undefined;
    if (batch === undefined) return;
    const keys = [...batch.keys];
    const first = batch.waiters[0] as Waiter;
    const read =
      keys.length === 1 ? this.reads.one(keys[0] as string, first.owner) : this.reads.many(keys);
    read.then(
      (found) => {
        for (const waiter of batch.waiters) {
          if (batch.waiters.length === 1) {
            waiter.resolve(found);
            continue;
          }
          const mine = new Map<string, StoredProduct>();
          for (const key of waiter.keys) {
            const product = found.get(key);
            if (product !== undefined) mine.set(key, product);
          }
          waiter.resolve(mine);
        }
      },
      (error: unknown) => {
        for (const waiter of batch.waiters) waiter.reject(error);
      },
    );
  }
}
