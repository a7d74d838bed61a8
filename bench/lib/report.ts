import type { Row, ScenarioReport, Verdict } from "./scenario.ts";

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const ms = (n: number | undefined) =>
  n === undefined || !Number.isFinite(n) ? "-" : n < 10 ? n.toFixed(2) : n.toFixed(1);

function pad(cells: string[], widths: number[]): string {
  return cells
    .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join("  ")
    .trimEnd();
}

/** Formats one scenario's rows and verdicts as a plain-text table. */
export function formatScenario(title: string, name: string, report: ScenarioReport): string {
  const header = ["target", "req/s", "per op", "units/s", "p50 ms", "p99 ms", "ratio", "note"];
  const body = report.rows.map((row: Row) => [
    row.label,
    row.rps === undefined ? "-" : int(row.rps),
    row.perRequest ? `${row.perRequest.count} ${row.perRequest.unit}` : "",
    row.perRequest && row.rps !== undefined ? int(row.rps * row.perRequest.count) : "",
    ms(row.p50),
    ms(row.p99),
    row.ratio === undefined ? "" : `${row.ratio.toFixed(2)}x`,
    row.note ?? "",
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((cells) => (cells[i] ?? "").length)),
  );
  widths[widths.length - 1] = 0;
  const lines = [
    `## ${title} (${name})`,
    "",
    pad(header, widths),
    pad(
      widths.map((w) => "-".repeat(Math.max(w, 4))),
      widths,
    ),
  ];
  for (const cells of body) lines.push(pad(cells, widths));
  lines.push("");
  for (const verdict of report.verdicts) lines.push(formatVerdict(verdict));
  for (const note of report.notes ?? []) lines.push(`  note: ${note}`);
  return lines.join("\n");
}

function formatVerdict(verdict: Verdict): string {
  return `  [${verdict.met ? "met" : "MISSED"}] ${verdict.goal}: ${verdict.measured}`;
}
