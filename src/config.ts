import type { MemoryLayerOptions } from "./engine/memory-layer.ts";
import { KckError } from "./errors.ts";
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
  /** KCK_MEMORY_MB: the memory layer's cap in MiB; 0 turns it (and the response cache) off. @default 64 */
  memory: MemoryLayerOptions | false;
  /** KCK_RESPONSE_CACHE_MB: the response cache's cap in MiB; 0 turns it off. @default 32 */
  responseCache: ResponseCacheOptions | false;
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
    logLevel: env["LOG_LEVEL"] || "info",
    memory: megabytes(integer(env, "KCK_MEMORY_MB", 64, 0, 1_000_000)),
    responseCache: megabytes(integer(env, "KCK_RESPONSE_CACHE_MB", 32, 0, 1_000_000)),
  };
}
