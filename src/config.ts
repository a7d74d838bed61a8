import type { MemoryLayerOptions } from "./engine/memory-layer.ts";
import { KckError } from "./errors.ts";
import type { AuthOptions } from "./gateway/plugins/use-authorization.ts";
import { DEFAULT_LIMITS, type Limits } from "./gateway/plugins/use-limits.ts";
import type { NewKeyLimitOptions } from "./gateway/server/new-key-limit.ts";
import type { ResponseCacheOptions } from "./gateway/server/response-cache.ts";
import { DEFAULT_STORE, type StoreOptions } from "./jobs/evict.ts";

/** Everything `npm start` reads from the environment, normalised once. */
export interface Config {
  /** DATABASE_URL; absent: the embedded server. */
  databaseUrl: string | undefined;
  /** KCK_DATA_DIR. @default ".kck" */
  dataDir: string;
  /** KCK_PRIMERS_DIR. @default "primers" */
  primersDir: string;
  /** PORT. @default 4000 */
  port: number;
  /** HOST. @default all interfaces */
  host: string | undefined;
  /** KCK_POOL_SIZE. @default 10 */
  poolSize: number;
  /** LOG_LEVEL. @default "info" */
  logLevel: string;
  /** KCK_MAX_DEPTH, KCK_MAX_ALIASES, KCK_MAX_COST, KCK_MAX_TOKENS, KCK_MAX_DIRECTIVES, KCK_MAX_BODY_BYTES, KCK_MAX_BATCH. */
  limits: Limits;
  /** KCK_ADMIN_TOKEN, KCK_READ_TOKEN, and NODE_ENV=production. Never logged. */
  auth: AuthOptions;
  /** KCK_WORKER: whether `npm start` also runs background jobs (0 or 1). @default true */
  worker: boolean;
  /** KCK_WORKER_CONCURRENCY: jobs one process runs at once. @default 4 */
  workerConcurrency: number;
  /**
   * KCK_DRAIN_TIMEOUT_MS: how long SIGTERM or SIGINT waits for requests and running jobs to
   * finish before it hands the jobs back to the queue and exits 1 (keep it below the grace
   * period of whatever sends the signal: Kubernetes waits 30 s).
   * @default 25000
   */
  drainTimeoutMs: number;
  /** KCK_MEMORY_MB: the memory layer's cap in MiB; 0 turns it (and the response cache) off. @default 64 */
  memory: MemoryLayerOptions | false;
  /** KCK_RESPONSE_CACHE_MB: the response cache's cap in MiB; 0 turns it off. @default 32 */
  responseCache: ResponseCacheOptions | false;
  /** LOG_LEVEL for one-shot `kck` commands, which log to stderr. @default "error" */
  commandLogLevel: string;
  /** KCK_MASK_ERRORS: hide failed computes' causes from clients (error ids instead). @default 1 in production */
  maskErrors: boolean;
  /** KCK_GRAPHIQL: serve GraphiQL at /graphql. @default 0 in production, 1 otherwise */
  graphiql: boolean;
  /** KCK_CORS_ORIGINS: comma-separated origins browsers may call from (`*`: any). @default none */
  corsOrigins: string[];
  /** KCK_PUSH_MAX_AGE: max-age in seconds for products that change by push; 0 sends no-cache. @default 0 */
  pushMaxAge: number;
  /** KCK_WS_MAX_SUBSCRIPTIONS: subscriptions one WebSocket connection may hold. @default 100 */
  wsMaxSubscriptions: number;
  /**
   * KCK_STORE_MAX_PRODUCTS (per primer), KCK_STORE_EVICT_AFTER_MS (0: never),
   * KCK_STORE_FAILURE_TTL_MS, KCK_STORE_EVICT_INTERVAL_MS: the store's bounds. @default DEFAULT_STORE
   */
  store: StoreOptions;
  /**
   * KCK_NEW_KEYS_PER_SECOND (0 turns the limit off) and KCK_NEW_KEYS_BURST: how fast one
   * client may cause computes of keys not stored yet. @default 50 a second, bursts of 500
   */
  newKeys: NewKeyLimitOptions | false;
  /**
   * npm_command (set by npm for `npm start`, `npm run`, `npx`): the gateway then also stops
   * when its parent goes away (npm's `sh -c` dies of a forwarded SIGTERM without passing it on).
   */
  startedByNpm: boolean;
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function level(env: NodeJS.ProcessEnv, fallback: string): string {
  const raw = env["LOG_LEVEL"];
  if (raw === undefined || raw === "") return fallback;
  if (!LEVELS.includes(raw)) {
    throw new KckError(
      "BAD_CONFIG",
      `LOG_LEVEL must be one of ${LEVELS.join(", ")}; got "${raw}".`,
    );
  }
  return raw;
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new KckError(
      "BAD_CONFIG",
      `${name} must be a whole number from ${min} to ${max}; got "${raw}".`,
    );
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "1" || raw === "true") return true;
  if (raw === "0" || raw === "false") return false;
  throw new KckError("BAD_CONFIG", `${name} must be 0 or 1; got "${raw}".`);
}
const megabytes = (mb: number): { maxBytes: number } | false =>
  mb === 0 ? false : { maxBytes: mb * 2 ** 20 };

function origins(env: NodeJS.ProcessEnv): string[] {
  const list = (env["KCK_CORS_ORIGINS"] ?? "")
    .split(",")
    .map((origin) => origin.trim().replace(/\/$/, ""))
    .filter((origin) => origin !== "");
  for (const origin of list) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new KckError(
        "BAD_CONFIG",
        `KCK_CORS_ORIGINS must list origins such as https://app.example.com (or *), separated by commas; got "${origin}".`,
      );
    }
  }
  return list;
}

function newKeyLimit(env: NodeJS.ProcessEnv): NewKeyLimitOptions | false {
  const perSecond = integer(env, "KCK_NEW_KEYS_PER_SECOND", 50, 0, 1_000_000);
  if (perSecond === 0) return false;
  return { perSecond, burst: integer(env, "KCK_NEW_KEYS_BURST", 500, 1, 100_000_000) };
}

/** Reads and checks the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env["NODE_ENV"] === "production";
  return {
    databaseUrl: env["DATABASE_URL"] || undefined,
    dataDir: env["KCK_DATA_DIR"] || ".kck",
    primersDir: env["KCK_PRIMERS_DIR"] || "primers",
    port: integer(env, "PORT", 4000, 0, 65_535),
    host: env["HOST"] || undefined,
    poolSize: integer(env, "KCK_POOL_SIZE", 10, 1, 1000),
    logLevel: level(env, "info"),
    commandLogLevel: level(env, "error"),
    limits: {
      depth: integer(env, "KCK_MAX_DEPTH", DEFAULT_LIMITS.depth, 1, 1000),
      aliases: integer(env, "KCK_MAX_ALIASES", DEFAULT_LIMITS.aliases, 0, 100_000),
      cost: integer(env, "KCK_MAX_COST", DEFAULT_LIMITS.cost, 1, 100_000_000),
      tokens: integer(env, "KCK_MAX_TOKENS", DEFAULT_LIMITS.tokens, 1, 10_000_000),
      directives: integer(env, "KCK_MAX_DIRECTIVES", DEFAULT_LIMITS.directives, 0, 10_000),
      bodyBytes: integer(env, "KCK_MAX_BODY_BYTES", DEFAULT_LIMITS.bodyBytes, 1, 1_000_000_000),
      batch: integer(env, "KCK_MAX_BATCH", DEFAULT_LIMITS.batch, 1, 1000),
    },
    auth: {
      adminToken: env["KCK_ADMIN_TOKEN"] || undefined,
      readToken: env["KCK_READ_TOKEN"] || undefined,
      production,
    },
    maskErrors: flag(env, "KCK_MASK_ERRORS", production),
    graphiql: flag(env, "KCK_GRAPHIQL", !production),
    corsOrigins: origins(env),
    pushMaxAge: integer(env, "KCK_PUSH_MAX_AGE", 0, 0, 31_536_000),
    wsMaxSubscriptions: integer(env, "KCK_WS_MAX_SUBSCRIPTIONS", 100, 1, 1_000_000),
    worker: flag(env, "KCK_WORKER", true),
    workerConcurrency: integer(env, "KCK_WORKER_CONCURRENCY", 4, 1, 1000),
    drainTimeoutMs: integer(env, "KCK_DRAIN_TIMEOUT_MS", 25_000, 0, 86_400_000),
    memory: megabytes(integer(env, "KCK_MEMORY_MB", 64, 0, 1_000_000)),
    responseCache: megabytes(integer(env, "KCK_RESPONSE_CACHE_MB", 32, 0, 1_000_000)),
    store: {
      maxProducts: integer(env, "KCK_STORE_MAX_PRODUCTS", DEFAULT_STORE.maxProducts, 1, 2 ** 31),
      evictAfterMs:
        integer(env, "KCK_STORE_EVICT_AFTER_MS", DEFAULT_STORE.evictAfterMs, 0, 2 ** 45) ||
        Number.POSITIVE_INFINITY,
      failureTtlMs: integer(
        env,
        "KCK_STORE_FAILURE_TTL_MS",
        DEFAULT_STORE.failureTtlMs,
        0,
        2 ** 45,
      ),
      evictIntervalMs: integer(
        env,
        "KCK_STORE_EVICT_INTERVAL_MS",
        DEFAULT_STORE.evictIntervalMs,
        100,
        86_400_000,
      ),
    },
    newKeys: newKeyLimit(env),
    startedByNpm: Boolean(env["npm_command"]),
  };
}
