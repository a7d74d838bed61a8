import type { Queryable, Session } from "../db/db.ts";
import { freshnessOf, type StoredProduct } from "./product.ts";

/** missing: compute unless servable. stale: compute unless fresh. force: always compute. */
export type Mode = "missing" | "stale" | "force";

/** One compute in flight in this process, shared by everyone who asks for its key. */
export interface Flight {
  promise: Promise<StoredProduct>;
  /** True once the primer's compute has started reading data. */
  started: boolean;
  /** One more forced compute, queued by refreshes that arrived after `started`. */
  followUp?: Promise<StoredProduct>;
}

/**
 * A connection shared by a compute and the computes it triggers, released by the last one.
 * Statements from them all run one after another, as one connection requires.
 */
export class SharedSession {
  private refs = 1;
  private tail: Promise<unknown> = Promise.resolve();
  /** The first failure any user reported: the connection is destroyed, not reused. */
  private broken: Error | undefined;
  readonly q: Queryable;
  constructor(private readonly session: Session) {
    this.q = {
      query: <R extends object>(text: string, values?: readonly unknown[], name?: string) => {
        const result = this.tail.then(() => session.query<R>(text, values, name));
        this.tail = result.catch(() => {});
        return result;
      },
    };
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(error?: Error): void {
    this.broken ??= error;
    if (--this.refs === 0) this.session.release(this.broken);
  }
}

/** The compute chain a dependency read belongs to. */
export interface Chain {
  readonly session: SharedSession;
  /** Keys being computed, outermost first: reading one of them again is a cycle. */
  readonly stack: readonly string[];
}

export const satisfies = (
  product: StoredProduct | undefined,
  mode: Mode,
): product is StoredProduct => {
  const state = freshnessOf(product);
  if (mode === "missing") return state === "FRESH" || state === "STALE";
  if (mode === "stale") return state === "FRESH";
  return false;
};

export const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));
