import type DataLoader from "dataloader";
import type { Engine } from "../engine/engine.ts";
import type { StoredProduct } from "../engine/product.ts";
import type { ParsedKey } from "../keys.ts";
import type { Hub } from "../subscriptions/hub.ts";

/** What every resolver receives: the engine and this request's product loader. */
export interface RequestContext {
  /** The engine serving this gateway instance. */
  readonly kck: Engine;
  /** Reads products for this one operation: one SQL read per tick, misses computed once. */
  readonly products: DataLoader<ParsedKey, StoredProduct, string>;
  /** The bearer token the client sent, if any. */
  readonly token: string | undefined;
  /** This instance's subscriptions: one read per new version of a key, shared by all. */
  readonly hub: Hub;
  /** What `products` served in this operation (for caching hints and the response cache). */
  readonly served: ServedLog;
  /**
   * Whether this caller may read the stored causes of failures (`lastError`): false in
   * production (`maskErrors`) unless it sent the admin token. @default true
   */
  readonly revealErrors?: boolean;
  /** The client's new-key limit, when one is set: asked before computing a key not stored. */
  readonly admitNew?: (() => Promise<void>) | undefined;
}

/** The products one operation was served, so that its response can be cached against them. */
export interface ServedLog {
  /** Every product served, as the very objects the engine returned. */
  readonly products: StoredProduct[];
  /** Whether any product read failed (its field is an error, not a value). */
  failed: boolean;
  /**
   * A cacheable answer's parts as the gateway sent them, recorded for the response fast path:
   * everything but the `Cache-Control` (computed at each send) and the status (always 200).
   */
  answer?: CapturedAnswer;
}

/** A 200 answer of a pure product read, kept to be sent again. */
export interface CapturedAnswer {
  /** Its headers, names in lower case, without `cache-control` and `content-length`. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
  /** The body's ETag (also among the headers). */
  readonly etag: string;
}

/** The Pothos type configuration every KCK schema, and every primer's output type, shares. */
export type KckSchemaTypes = PothosSchemaTypes.ExtendDefaultTypes<{
  Context: RequestContext;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
    /** A 64-bit integer: a bigint in code; stored and sent as a decimal string. */
    BigInt: { Input: bigint; Output: bigint | string };
  };
  DefaultFieldNullability: false;
}>;
