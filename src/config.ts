import type { MemoryLayerOptions } from "./engine/memory-layer.ts";
import { KckError } from "./errors.ts";
import type { AuthOptions } from "./gateway/auth.ts";
import { DEFAULT_LIMITS, type Limits } from "./gateway/limits.ts";
import type { ResponseCacheOptions } from "./gateway/response-cache.ts";

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

/** Reads and checks the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
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
      production: env["NODE_ENV"] === "production",
    },
    worker: flag(env, "KCK_WORKER", true),
    workerConcurrency: integer(env, "KCK_WORKER_CONCURRENCY", 4, 1, 1000),
    drainTimeoutMs: integer(env, "KCK_DRAIN_TIMEOUT_MS", 25_000, 0, 86_400_000),
    memory: megabytes(integer(env, "KCK_MEMORY_MB", 64, 0, 1_000_000)),
    responseCache: megabytes(integer(env, "KCK_RESPONSE_CACHE_MB", 32, 0, 1_000_000)),
    startedByNpm: Boolean(env["npm_command"]),
  };
}
