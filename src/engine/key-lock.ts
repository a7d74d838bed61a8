import { unlock } from "../sql/locks.ts";
import type { SharedSession } from "./flight.ts";

/**
 * A key's compute lock, held: the session-level advisory lock on a compute session that lets
 * one process compute the key. Whoever holds this object owns the lock, and the owner calls
 * {@link KeyLock.release} exactly once. Its owners, in turn:
 *
 * 1. the read that took it (`kck.read_or_lock`, src/engine/pre-locks.ts), which leaves it in
 *    `PreLocks` for the flight of the key; the load that made the read releases it if no
 *    flight took it by the time the load is served;
 * 2. the flight of the key (src/engine/single-flight.ts), which takes it from `PreLocks` or
 *    takes the lock itself, and releases it once its value is stored (or the compute failed).
 *
 * Releasing sends the unlock on the session and hands the session back once the unlock is
 * done, without holding up the owner's callers: the value is committed before the lock goes,
 * so nobody reading it needs to wait for the unlock's round trip.
 */
export class KeyLock {
  private released = false;

  constructor(
    /** The key it locks. */
    readonly key: string,
    /** The session that holds it; a flight that takes the lock computes on it. */
    readonly session: SharedSession,
    private readonly releases: LockReleases,
  ) {}

  /** Lets go of the lock, then of the session (its last user releases the connection). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.releases.letGo(this.key, this.session);
  }
}

/**
 * The releases of compute locks under way in this process, by key: a compute of a key that
 * starts while the last one's unlock is still on its way waits for it before it tries the
 * lock (or it could find its own process holding the lock).
 */
export class LockReleases {
  private readonly unlocking = new Map<string, Promise<void>>();

  /** `track` keeps the unlocks (off the callers' path) until the engine stops. */
  constructor(private readonly track: (work: Promise<unknown>) => void) {}

  /** The lock of `key` just taken on `session`: the caller owns it and must release it. */
  held(key: string, session: SharedSession): KeyLock {
    return new KeyLock(key, session, this);
  }

  /** Resolves once the key's release under way, if any, is done. */
  settled(key: string): Promise<void> | undefined {
    return this.unlocking.get(key);
  }

  /** Unlocks the key on the session, then releases the session: what {@link KeyLock.release} does. */
  letGo(key: string, session: SharedSession): void {
    const unlocked = unlock(session.q, key).then(
      () => undefined,
      (error: Error) => error,
    );
    const done = unlocked.then((error) => {
      session.release(error);
      if (this.unlocking.get(key) === done) this.unlocking.delete(key);
    });
    this.unlocking.set(key, done);
    this.track(done);
  }
}
