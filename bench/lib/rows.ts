import type { Measured } from "./rounds.ts";
import type { Row } from "./scenario.ts";

/** The measured contender of this label; throws when a scenario asks for one it did not run. */
export function pick(measured: readonly Measured[], label: string): Measured {
  const found = measured.find((m) => m.label === label);
  if (found === undefined) throw new Error(`No contender is labelled "${label}".`);
  return found;
}

/**
 * Table rows for measured contenders: ratios to the reference's throughput, and the SQL
 * statements each operation cost where the target counts them.
 */
export function toRows(
  measured: readonly Measured[],
  reference: Measured,
  perRequest?: { count: number; unit: string },
): Row[] {
  return measured.map((m) => {
    const statements = m.delta["statements"];
    const notes = [
      statements === undefined ? undefined : `${(statements / m.requests).toFixed(2)} SQL/op`,
      m.after["memoryEntries"] === undefined
        ? undefined
        : `memory ${m.after["memoryEntries"]} entries ${mb(m.after["memoryBytes"])}`,
      m.after["responseEntries"] === undefined
        ? undefined
        : `responses ${m.after["responseEntries"]} entries ${mb(m.after["responseBytes"])}`,
    ].filter((note) => note !== undefined);
    return {
      label: m.label,
      rps: m.rps,
      p50: m.p50,
      p99: m.p99,
      ratio: m.rps / reference.rps,
      ...(perRequest ? { perRequest } : {}),
      ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
    };
  });
}

/** Bytes as MiB with one decimal. */
export function mb(bytes: number | undefined): string {
  return bytes === undefined ? "-" : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
