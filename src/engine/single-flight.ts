import { cycleError, KckError } from "../errors.ts";
import type { ParsedKey } from "../keys.ts";
import { readProduct, tryLockThenRead } from "../sql/products.ts";
import { asError, type Chain, type Flight, type Mode, SharedSession, satisfies } from "./flight.ts";
import type { KeyLock, LockReleases } from "./key-lock.ts";
import type { KeyWaiters } from "./key-waiters.ts";
import type { PreLocks } from "./pre-locks.ts";
import type { StoredProduct } from "./product.ts";
import { type ComputeHost, runCompute } from "./run-compute.ts";

/** What {@link SingleFlight} needs from the engine. */
export interface SingleFlightOptions {
  /** What a compute runs with (its database too). */
  host: ComputeHost;
  /** The compute locks reads took, which a flight takes over. */
  preLocks: PreLocks;
  /** Where a flight's lock goes back to once its value is stored. */
  releases: LockReleases;
  /** Wakes waiters for another process's compute on the key's change event. */
  waiters: KeyWaiters;
  /** How long a compute waits for another process that holds the same key's lock. */
  lockWaitMs: number;
}

/**
 * Single-flight computes: one flight per key in this process (every caller shares its
 * promise), and one compute per key across processes, under the key's session-level advisory
 * lock on a compute session. A process that does not get the lock waits for the key's change
 * event (or a short poll) and reads what the holder stored.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly options: SingleFlightOptions) {}

  /** Whether a flight of the key is under way in this process. */
  has(key: string): boolean {
    return this.flights.has(key);
  }

  /**
   * Serves a key that needs computing (missing, expired, or forced): joins this process's
   * flight of the key, or starts one.
   */
  ensure(target: ParsedKey, mode: Mode, chain?: Chain): Promise<StoredProduct> {
    if (chain?.stack.includes(target.key))
      return Promise.reject(cycleError([...chain.stack, target.key]));
    const current = this.flights.get(target.key);
    if (current) {
      // A lock a read took meanwhile is of use only to this flight, which is waiting for it.
      this.options.preLocks.release(target.key);
      if (mode !== "force" || !current.started) return current.promise;
      // A refresh asked for after the running compute read its data must see newer data.
      current.followUp ??= current.promise.then(
        () => this.ensure(target, "force"),
        () => this.ensure(target, "force"),
      );
      return current.followUp;
    }
    const flight: Flight = { promise: Promise.resolve(undefined as never), started: false };
    flight.promise = this.fly(target, mode, chain, flight).finally(() => {
      if (this.flights.get(target.key) === flight) this.flights.delete(target.key);
    });
    this.flights.set(target.key, flight);
    return flight.promise;
  }

  private async fly(
    target: ParsedKey,
    mode: Mode,
    chain: Chain | undefined,
    flight: Flight,
  ): Promise<StoredProduct> {
    // Taken before anything is awaited: the load whose read took it drops it once this returns.
    const pre = this.options.preLocks.take(target.key);
    // A compute of this key that just finished here may still be letting go of its lock.
    if (pre === undefined) await this.options.releases.settled(target.key);
    const session =
      pre?.lock.session ??
      (chain ? chain.session.retain() : new SharedSession(await this.options.host.db.session()));
    // The key's lock, once this flight owns it: released (with the session) when it is done.
    let lock: KeyLock | undefined = pre?.lock;
    let broken: Error | undefined;
    try {
      const read = pre
        ? { locked: true as const, product: pre.product }
        : await this.lockOrResult(session, target.key, mode).catch((error: unknown) => {
            // Whether the lock was taken is unknown: the connection goes, and any lock with it.
            broken = asError(error);
            throw error;
          });
      if (!read.locked) return read.product;
      lock ??= this.options.releases.held(target.key, session);
      // As read under the lock, before the compute reads anything.
      const invalidations = read.product?.invalidations ?? 0;
      if (satisfies(read.product, mode)) return read.product;
      flight.started = true;
      const computing: Chain = { session, stack: [...(chain?.stack ?? []), target.key] };
      return await runCompute(this.options.host, target, computing, invalidations);
    } finally {
      if (lock) lock.release();
      else session.release(broken);
    }
  }

  /**
   * Takes the key's lock (and reads its row in the same round trip), or returns
   * the product another process stored while we waited for it. Waiters wake on the key's
   * change event, with a short poll as the fallback.
   */
  private async lockOrResult(
    session: SharedSession,
    key: string,
    mode: Mode,
  ): Promise<
    { locked: true; product: StoredProduct | undefined } | { locked: false; product: StoredProduct }
  > {
    const deadline = Date.now() + this.options.lockWaitMs;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      // The row is read again under the lock, in the same round trip: another process may have
      // stored the value between our read and the lock, and a forced compute needs the row's
      // invalidation count as it stood before the compute reads any data.
      const lock = await tryLockThenRead(session.q, key);
      if (lock.locked) return { locked: true, product: lock.product };
      if (Date.now() > deadline) {
        throw new KckError(
          "TIMEOUT",
          `Waited ${this.options.lockWaitMs} ms for another process to finish computing ${key}; giving up.`,
        );
      }
      await this.options.waiters.next(key, delay);
      if (mode !== "force") {
        const current = await readProduct(session.q, key);
        if (satisfies(current, mode)) return { locked: false, product: current };
      }
    }
  }
}
