import { InvalidArgumentError } from "commander";

/** Parses a whole number of at least 1 given to an option; commander reports a bad one. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError("It must be a whole number of at least 1.");
  return n;
}
