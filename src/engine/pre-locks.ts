import type { SharedSession } from "./flight.ts";
import type { StoredProduct } from "./product.ts";

/** A key's compute lock that a read took because it found nothing to serve. */
export interface PreLock {
  /** The session that holds the lock; the flight that takes it computes on it. */
  readonly session: SharedSession;
  /** The row as read under the lock. */
  readonly product: StoredProduct | undefined;
  /** The load whose read took it: only that load drops it when no flight has taken it. */
  readonly owner: object;
}

/**
 * Compute locks taken by reads (`kck.read_or_lock`), each waiting for the flight that computes
 * its key. A miss then starts its compute one round trip earlier than a read followed by a
 * lock would. A lock nobody takes (the engine's clock found the row servable after all, or
 * another flight of the key was already waiting for the lock) is let go at once.
 */
export class PreLocks {
  private readonly held = new Map<string, PreLock>();

  constructor(
    /** Unlocks the key on the session and then releases it. */
    private readonly letGo: (key: string, session: SharedSession) => void,
  ) {}

  /** Keeps a lock just taken for its flight. */
  hold(key: string, lock: PreLock): void {
    // Only one session can hold a key's lock, so this is a stale entry: never the live one.
    const old = this.held.get(key);
    if (old) this.letGo(key, old.session);
    this.held.set(key, lock);
  }

  /** Hands the lock of a key, if one is held, to the flight that will compute the key. */
  take(key: string): PreLock | undefined {
    const lock = this.held.get(key);
    if (lock) this.held.delete(key);
    return lock;
  }

  /** Lets go of a key's lock, if one is held (whoever took it). */
  release(key: string): void {
    const lock = this.take(key);
    if (lock) this.letGo(key, lock.session);
  }

  /** Lets go of the lock that `owner`'s read took for a key, if no flight has taken it. */
  drop(key: string, owner: object): void {
    if (this.held.get(key)?.owner === owner) this.release(key);
  }
}
