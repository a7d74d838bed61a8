import type { Db, Session } from "../db/db.ts";
import { readOrLock, readProducts } from "../sql/products.ts";
import { asError, SharedSession } from "./flight.ts";
import type { KeyLock, LockReleases } from "./key-lock.ts";
import type { StoredProduct } from "./product.ts";
import { ReadBatch } from "./read-batch.ts";

/** A key's compute lock that a read took because it found nothing to serve. */
export interface PreLock {
  /** The lock, held on a compute session; the flight that takes it computes on that session. */
  readonly lock: KeyLock;
  /** The row as read under the lock. */
  readonly product: StoredProduct | undefined;
  /** The load whose read took it: only that load drops it when no flight has taken it. */
  readonly owner: object;
}

/** What {@link PreLocks} needs from the engine. */
export interface PreLocksOptions {
  db: Db;
  /** Where the locks reads take come from, and go back to. */
  releases: LockReleases;
  /** Whether a flight of the key is under way in this process. */
  flying: (key: string) => boolean;
  /** The memory layer's generation (grows with every change it hears of). */
  generation: () => number;
}

/**
 * Reads of what the memory layer misses, and the compute locks they take. One missing key (a
 * miss storm's first request, say) is read on an idle compute session with `kck.read_or_lock`,
 * which also takes the key's compute lock when there is nothing to serve; the flight that
 * computes the key takes that lock, so the compute starts one round trip sooner than after a
 * read and then a lock. The session goes back at once when no lock was taken, and a lock no
 * flight takes (the engine's clock found the row servable after all, or a flight of the key was
 * already waiting for the lock) is let go at once. Loads of the key that begin while such a read
 * is under way, with no change since it began, share it, so that none of them races it for the
 * lock. Anything else is one plain read.
 *
 * A lock kept here is owned here (see {@link KeyLock}) until a flight takes it (`take`), or it
 * is released: by `release`, by `drop` from the load whose read took it, or by `hold` finding
 * a stale entry.
 */
export class PreLocks {
  private readonly held = new Map<string, PreLock>();
  private readonly reads = new Map<
    string,
    { generation: number; read: Promise<Map<string, StoredProduct>> }
  >();

  /** The loads of one event-loop turn read together (src/engine/read-batch.ts). */
  private readonly batch: ReadBatch;

  constructor(private readonly options: PreLocksOptions) {
    this.batch = new ReadBatch({
      one: (key, owner) => this.readOne(key, owner),
      many: (keys) => readProducts(options.db, keys),
    });
  }

  /** Reads the keys the memory layer missed, for the load `owner`. */
  read(missing: readonly string[], owner: object): Promise<Map<string, StoredProduct>> {
    const key = missing.length === 1 ? missing[0] : undefined;
    if (key !== undefined) {
      // A read of the key under way since no change: share it rather than race it for the lock.
      const shared = this.reads.get(key);
      if (shared?.generation === this.options.generation()) return shared.read;
    }
    return this.batch.read(missing, owner);
  }

  /** Reads one key, on an idle compute session where it may take the key's compute lock. */
  private readOne(key: string, owner: object): Promise<Map<string, StoredProduct>> {
    const { db } = this.options;
    const missing = [key];
    const generation = this.options.generation();
    const shared = this.reads.get(key);
    if (shared?.generation === generation) return shared.read;
    // A flight of the key here is already after its lock: this read must not take it first.
    const idle = this.options.flying(key) ? undefined : db.idleSession();
    if (idle === undefined) return readProducts(db, missing);
    const entry = { generation, read: this.readOrLock(idle, key, owner) };
    this.reads.set(key, entry);
    void entry.read
      .finally(() => {
        if (this.reads.get(key) === entry) this.reads.delete(key);
      })
      .catch(() => {});
    return entry.read;
  }

  /** Keeps a lock just taken for its flight. */
  hold(key: string, lock: PreLock): void {
    // Only one session can hold a key's lock, so this is a stale entry: never the live one.
    this.held.get(key)?.lock.release();
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
    this.take(key)?.lock.release();
  }

  /** Lets go of the lock that `owner`'s read took for a key, if no flight has taken it. */
  drop(key: string, owner: object): void {
    if (this.held.get(key)?.owner === owner) this.release(key);
  }

  private async readOrLock(
    idle: Promise<Session>,
    key: string,
    owner: object,
  ): Promise<Map<string, StoredProduct>> {
    const session = new SharedSession(await idle);
    let read: Awaited<ReturnType<typeof readOrLock>>;
    try {
      read = await readOrLock(session.q, key);
    } catch (error) {
      // Whether the lock was taken is unknown: the connection goes, and any lock with it.
      session.release(asError(error));
      throw error;
    }
    if (read.locked) {
      this.hold(key, {
        lock: this.options.releases.held(key, session),
        product: read.product,
        owner,
      });
    } else session.release();
    return new Map(read.product ? [[key, read.product]] : []);
  }
}
