import { KckError } from "../errors.ts";

/**
 * The exit codes of `kck`, which scripts can rely on. 0: done. 1: the work failed (a compute,
 * the database). 2: the command was used wrongly (unknown command or option, bad key, bad
 * setting) or is not available. 3: a product that had to exist is not stored.
 */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, NOT_FOUND: 3 } as const;

/** One of {@link EXIT}'s codes. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error a command raises to end with a given exit code and a whole-sentence message. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

const USAGE_CODES = new Set(["BAD_KEY", "BAD_PARAM", "UNKNOWN_PRIMER", "BAD_CONFIG"]);

/** The exit code for anything a command threw. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof KckError && USAGE_CODES.has(error.code)) return EXIT.USAGE;
  if (error instanceof KckError && error.code === "NOT_FOUND") return EXIT.NOT_FOUND;
  return EXIT.FAILURE;
}

/** The one line printed on stderr for anything a command threw: `kck: CODE: message`. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof KckError) return `kck: ${error.code}: ${message}`;
  if (error instanceof CliError) {
    const name = Object.entries(EXIT).find(([, code]) => code === error.exitCode)?.[0];
    return `kck: ${name ?? "ERROR"}: ${message}`;
  }
  return `kck: FAILURE: ${message}`;
}
