import { type DestinationStream, type Logger, pino } from "pino";
import { redactDeep, redactSecrets } from "./redact.ts";
import { currentRequestId } from "./request-scope.ts";

export type { Logger };

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level name. @default "info" */
  level?: string;
  /** Where the JSON lines go: a file descriptor (1 stdout, 2 stderr) or a stream. @default 1 */
  destination?: number | DestinationStream;
}

/**
 * Creates KCK's structured logger (JSON lines). Each line logged while a request is served
 * carries its `reqId`. Passwords are redacted from every line: in the message, the logged
 * fields and errors (a connection string's password, in any form, never reaches the log).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? 1;
  return pino(
    {
      name: "kck",
      level: options.level ?? "info",
      mixin() {
        const reqId = currentRequestId();
        return reqId === undefined ? {} : { reqId };
      },
      formatters: { log: (record) => redactDeep(record, 3) as Record<string, unknown> },
      serializers: { err: (error: Error) => redactDeep(pino.stdSerializers.err(error)) },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === "string" ? redactSecrets(arg) : arg)) as never,
          );
        },
      },
    },
    typeof destination === "number" ? pino.destination(destination) : destination,
  );
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
