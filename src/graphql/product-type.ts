import type { JobState } from "../engine/ports.ts";
import { freshnessOf, type StoredProduct } from "../engine/product.ts";
import type { RequestContext } from "../types.ts";
import type { KckBuilder } from "./builder.ts";

/** The GraphQL Product type and the `product(key)` query field. */
export function addProductType(builder: KckBuilder) {
  const Freshness = builder.enumType("Freshness", {
    description: "Where a product stands.",
    values: {
      FRESH: { description: "Served as is." },
      STALE: { description: "Served at once while a refresh runs." },
      EXPIRED: { description: "Recomputed before it is served." },
      MISSING: { description: "Never computed successfully." },
    } as const,
  });

  const JobStatus = builder.enumType("JobStatus", {
    description: "Where a background refresh stands.",
    values: {
      WAITING: { description: "Queued; runs at runAt." },
      RUNNING: { description: "A worker is running it." },
      RETRYING: { description: "Failed; retried at runAt, with exponential backoff." },
      FAILED: { description: "Failed maxAttempts times; the next change asks for a new one." },
    } as const,
  });

  const RefreshJob = builder.objectRef<JobState>("RefreshJob");
  RefreshJob.implement({
    description: "The background job waiting or running for a product.",
    fields: (t) => ({
      task: t.exposeString("task", {
        description: "kck_refresh (forced) or kck_prime (unless fresh).",
      }),
      status: t.field({ type: JobStatus, resolve: (j) => j.status }),
      attempts: t.exposeInt("attempts", { description: "Failed attempts so far." }),
      maxAttempts: t.exposeInt("maxAttempts"),
      lastError: t.string({
        nullable: true,
        resolve: (job, _args, ctx) => shownError(job.lastError, ctx),
      }),
      runAt: t.expose("runAt", { type: "DateTime" }),
    }),
  });

  const Product = builder.objectRef<StoredProduct>("Product");
  Product.implement({
    description: "A product's metadata: what the cache holds for one key.",
    fields: (t) => ({
      key: t.exposeString("key"),
      primer: t.exposeString("primer"),
      params: t.expose("params", { type: "JSON" }),
      value: t.expose("value", {
        type: "JSON",
        nullable: true,
        description: "The stored value, as JSON.",
      }),
      version: t.exposeInt("version", {
        description: "Grows by one each time the value changes; 0: never computed.",
      }),
      state: t.field({ type: Freshness, resolve: (p) => freshnessOf(p) }),
      computedAt: t.expose("computedAt", { type: "DateTime", nullable: true }),
      freshUntil: t.expose("freshUntil", {
        type: "DateTime",
        nullable: true,
        description: "Null: fresh until refreshed or invalidated.",
      }),
      staleUntil: t.expose("staleUntil", {
        type: "DateTime",
        nullable: true,
        description: "Null: may always be served stale.",
      }),
      computeCount: t.exposeInt("computeCount", {
        description: "How many times it was computed successfully.",
      }),
      lastComputeMs: t.exposeFloat("lastComputeMs", { nullable: true }),
      lastError: t.string({
        nullable: true,
        resolve: (product, _args, ctx) => shownError(product.lastError, ctx),
      }),
      notFound: t.exposeString("notFound", {
        nullable: true,
        description:
          "Set when the current version says the product does not exist: the message its readers get with the code NOT_FOUND.",
      }),
      lastErrorAt: t.expose("lastErrorAt", { type: "DateTime", nullable: true }),
      errorCount: t.exposeInt("errorCount"),
      codeVersion: t.exposeString("codeVersion", {
        nullable: true,
        description:
          "The version of the primer code that computed the value (its `version`, or a hash of its definition); null: not recorded.",
      }),
      refreshJob: t.field({
        type: RefreshJob,
        nullable: true,
        description:
          "The background refresh waiting or running for this product, with its attempts and last error; null when there is none.",
        resolve: (p, _args, ctx) => ctx.kck.refreshJob(p.key),
      }),
      augmentCount: t.exposeInt("augmentCount", {
        description: "How many deltas were applied to it in place.",
      }),
      lastAugmentedAt: t.expose("lastAugmentedAt", {
        type: "DateTime",
        nullable: true,
        description: "When the last delta was applied; null: never augmented.",
      }),
      dependencies: t.field({
        type: [Product],
        description: "The products this one read when it was last computed.",
        resolve: async (p, _args, ctx) =>
          ctx.kck.productsByKey((await ctx.kck.edges(p.key)).dependencies),
      }),
      dependents: t.field({
        type: [Product],
        description: "The products that read this one.",
        resolve: async (p, _args, ctx) =>
          ctx.kck.productsByKey((await ctx.kck.edges(p.key)).dependents),
      }),
    }),
  });

  builder.queryField("product", (t) =>
    t.field({
      type: Product,
      nullable: true,
      description: "A product's metadata, without computing it; null when it was never stored.",
      args: { key: t.arg.string({ required: true }) },
      resolve: (_root, { key }, ctx) => ctx.kck.inspect(key),
    }),
  );

  return Product;
}

/** A stored failure's text as this caller may see it: hidden in production but from admins. */
function shownError(text: string | null, ctx: RequestContext): string | null {
  if (text === null || ctx.revealErrors !== false) return text;
  return "A compute failed; its cause is hidden in production (the server's log has it, and the admin token shows it here).";
}
