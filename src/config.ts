import { KckError } from "./errors.ts";

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
  /** KCK_WORKER: whether `npm start` also runs background jobs (0 or 1). @default true */
  worker: boolean;
  /** KCK_WORKER_CONCURRENCY: jobs one process runs at once. @default 4 */
  workerConcurrency: number;
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
    worker: flag(env, "KCK_WORKER", true),
    workerConcurrency: integer(env, "KCK_WORKER_CONCURRENCY", 4, 1, 1000),
  };
}
