import DataLoader from "dataloader";
import { canonicalJson, hashJson } from "../canonical-json.ts";
import type { Db } from "../db/db.ts";
import { cycleError, KckError, messageOf } from "../errors.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { touchProduct, writeComputed, writeFailure } from "../sql/computes.ts";
import { readProduct } from "../sql/products.ts";
import { createComputeContext, UNCHANGED } from "./compute-context.ts";
import { ComputeStatements } from "./compute-statements.ts";
import type { EngineHooks } from "./engine-hooks.ts";
import type { Chain } from "./flight.ts";
import type { MemoryLayer } from "./memory-layer.ts";
import { isNotFound, notFoundError } from "./not-found.ts";
import type { StoredProduct } from "./product.ts";
import { withTimeout } from "./timeout.ts";

/** What a compute needs from the engine that runs it. */
export interface ComputeHost {
  readonly db: Db;
  readonly log: Logger;
  readonly hooks: EngineHooks;
  readonly memory: MemoryLayer | undefined;
  /** Aborts every compute when the engine stops. */
  readonly stopping: AbortSignal;
  /** How long a compute may run when its primer sets no timeout. */
  readonly computeTimeoutMs: number;
  /** Reads (computing where needed) the products a compute asks for, on its chain. */
  load(targets: readonly ParsedKey[], chain: Chain): Promise<(StoredProduct | Error)[]>;
  parse(key: string): ParsedKey;
  resolve(primer: AnyPrimer, params: Readonly<Record<string, unknown>>): ParsedKey;
  /** Throws COMPUTE_FAILED when a computed value does not fit its primer's GraphQL type. */
  checkValue(primer: AnyPrimer, key: string, value: unknown): Promise<void>;
}

/**
 * Runs a primer's compute for one key, under the key's lock (held by `chain.session`), and
 * stores the result: the value with its dependency edges (the keys the compute read through its
 * context), or the failure, keeping the last good value. `invalidations` is the row's count as
 * read under the lock: an invalidation that arrives while the compute runs leaves the stored
 * value expired.
 */
export async function runCompute(
  host: ComputeHost,
  target: ParsedKey,
  chain: Chain,
  invalidations: number,
): Promise<StoredProduct> {
  const { key, primer, params } = target;
  const { session } = chain;
  const dependencies = new Set<string>();
  const controller = new AbortController();
  const statements = new ComputeStatements(host.db, controller.signal);
  const reads = new DataLoader<ParsedKey, StoredProduct, string>(
    (targets) => host.load(targets, chain),
    { cacheKeyFn: (t) => t.key },
  );
  const ctx = createComputeContext(
    {
      db: { query: (text, values) => statements.run(text, values) },
      parse: (k) => host.parse(k),
      resolve: (p, v) => host.resolve(p, v),
      readStored: (stored) => readProduct(host.db, stored),
      readDependency: async (dependency) => {
        if (chain.stack.includes(dependency.key))
          throw cycleError([...chain.stack, dependency.key]);
        const product = await reads.load(dependency);
        // Reading a product that does not exist, a compute does not exist either (unless it
        // catches the error): the edge is kept, so the dependency's return reaches it.
        if (product.notFound !== null) throw notFoundError(product);
        return product.value;
      },
    },
    key,
    dependencies,
    controller.signal,
  );
  const started = performance.now();
  let value: unknown;
  // Set when the compute said its product does not exist: stored as a version, not a failure.
  let notFound: string | null = null;
  try {
    value = await withTimeout(
      host.stopping,
      key,
      primer.timeoutMs ?? host.computeTimeoutMs,
      controller,
      () => primer.compute(params, ctx),
    );
    // A value that would fail every read is a failed compute: nothing stored, last good kept.
    if (value !== UNCHANGED) await host.checkValue(primer, key, value);
  } catch (error) {
    // An abandoned compute's SQL is being cancelled: the key stays locked until it has stopped.
    await statements.settled();
    if (!isNotFound(error)) {
      const computeMs = performance.now() - started;
      host.hooks.onFailure?.(primer.name, computeMs);
      const failure =
        error instanceof KckError && error.code !== "COMPUTE_FAILED"
          ? error
          : new KckError("COMPUTE_FAILED", `Computing ${key} failed: ${messageOf(error)}`, {
              cause: error,
            });
      host.log.warn({ key, err: error, computeMs }, "compute failed");
      await writeFailure(session.q, {
        key,
        primer: primer.name,
        params,
        error: failure.message,
        computeMs,
      }).catch((writeError: unknown) =>
        host.log.error({ key, err: writeError }, "could not record a compute failure"),
      );
      throw failure;
    }
    notFound = error.message;
    value = null;
  }
  const computeMs = performance.now() - started;
  const now = Date.now();
  const freshUntil = Number.isFinite(primer.freshMs) ? new Date(now + primer.freshMs) : null;
  const staleUntil =
    freshUntil && Number.isFinite(primer.staleMs)
      ? new Date(freshUntil.getTime() + primer.staleMs)
      : null;
  if (value === UNCHANGED) {
    // The source said nothing changed (an HTTP 304, say): only freshness moves.
    const touched = await touchProduct(session.q, {
      key,
      freshUntil,
      staleUntil,
      computeMs,
      invalidations,
      codeVersion: primer.codeVersion,
    });
    if (touched) return touched;
    throw new KckError(
      "COMPUTE_FAILED",
      `Computing ${key} returned ctx.unchanged(), but there is no stored value to keep; return a value when ctx.previous() gives none.`,
    );
  }
  const json = canonicalJson(value);
  const { product } = await writeComputed(session.q, {
    key,
    primer: primer.name,
    params,
    json,
    // No value hashes to this: a NOT_FOUND version differs from every value, null included.
    hash: notFound === null ? hashJson(json) : "not-found",
    notFound,
    freshUntil,
    staleUntil,
    computeMs,
    dependencies: [...dependencies],
    invalidations,
    codeVersion: primer.codeVersion,
  });
  host.hooks.onCompute?.(primer.name, computeMs);
  if (dependencies.size > 0) host.hooks.onDependencies?.(primer.name, [...dependencies]);
  host.memory?.changed(key);
  host.log.debug({ key, version: product.version, computeMs }, "computed");
  return product;
}
