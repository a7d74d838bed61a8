import { type Logger, pino } from "pino";

export type { Logger };

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level name. @default "info" */
  level?: string;
}

/** Creates KCK's structured logger (JSON lines on stdout). */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({ name: "kck", level: options.level ?? "info" });
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
