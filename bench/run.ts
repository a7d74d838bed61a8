// `npm run bench`: KCK and the baselines on the same workload, on this machine, in one run.
// Options: --quick (CI: proves the suite works, no timing bounds), --only a,b (scenario names),
// --profile (CPU profiles of the KCK servers, summarised), --rounds N, --seconds S,
// --connections N, --json FILE (the rows and verdicts as JSON).
import { execSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BenchDatabase, openBenchServer } from "./lib/database.ts";
import { summariseProfiles } from "./lib/profile.ts";
import { formatScenario } from "./lib/report.ts";
import type { BenchContext, BenchSettings, ScenarioReport } from "./lib/scenario.ts";
import { type ServerHandle, startServers } from "./lib/servers.ts";
import type { TargetSpec } from "./lib/target.ts";
import { SCENARIOS } from "./scenarios/index.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    profile: { type: "boolean", default: false },
    rounds: { type: "string" },
    seconds: { type: "string" },
    connections: { type: "string" },
    json: { type: "string" },
  },
});

const base: BenchSettings = args.quick
  ? { quick: true, rounds: 1, seconds: 0.4, warmupSeconds: 0.2, connections: 16 }
  : { quick: false, rounds: 5, seconds: 3, warmupSeconds: 1, connections: 32 };
const settings: BenchSettings = {
  ...base,
  rounds: Number(args.rounds ?? base.rounds),
  seconds: Number(args.seconds ?? base.seconds),
  connections: Number(args.connections ?? base.connections),
};
const only = args.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(
    `Unknown scenario(s) ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}.`,
  );
  process.exit(2);
}
const chosen = SCENARIOS.filter((s) => only === undefined || only.includes(s.name));
const t0 = Date.now();
const log = (message: string) =>
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}\n`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
const commit = (() => {
  try {
    return execSync("git rev-parse --short HEAD", { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
})();

const started = Date.now();
const loadBefore = load();
const server = await openBenchServer(process.env["DATABASE_URL"] || undefined);
const header = [
  `# KCK bench${settings.quick ? " (--quick: proves the suite works; numbers mean little)" : ""}`,
  "",
  `machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}`,
  `node ${process.version}; database: ${server.where}; commit ${commit}`,
  `settings: ${settings.rounds} round(s) of ${settings.seconds} s per target after ${settings.warmupSeconds} s warm-up, ${settings.connections} connections; servers in child processes, autocannon in this one`,
  `load average (1 5 15 min) before: ${loadBefore}`,
  "",
];
console.log(header.join("\n"));

const reports: { name: string; title: string; report?: ScenarioReport; error?: string }[] = [];
const profileRoot = join(import.meta.dirname, ".profiles");
if (args.profile) await rm(profileRoot, { recursive: true, force: true });

for (const scenario of chosen) {
  log(`scenario ${scenario.name}`);
  const begun = Date.now();
  const servers: ServerHandle[] = [];
  const databases: BenchDatabase[] = [];
  const profiled: { label: string; dir: string }[] = [];
  const ctx: BenchContext = {
    settings,
    log,
    async database(label) {
      log(`  database ${label}`);
      const database = await server.createDatabase(`${scenario.name}_${label}`);
      databases.push(database);
      return database;
    },
    async start(targets) {
      const group = async (
        members: readonly { spec: TargetSpec; label: string }[],
      ): Promise<ServerHandle[]> => {
        let profileDir: string | undefined;
        if (args.profile && members.some((m) => m.spec.kind === "kck")) {
          const name = members.map((m) => m.label).join(" + ");
          profileDir = join(profileRoot, scenario.name, name.replaceAll(/[^A-Za-z0-9]+/g, "-"));
          await mkdir(profileDir, { recursive: true });
          profiled.push({ label: name, dir: profileDir });
        }
        log(`  starting ${members.map((m) => m.label).join(", ")}`);
        const handles = await startServers(
          members.map((m) => m.spec),
          { profileDir },
        );
        servers.push(...handles);
        return handles;
      };
      if (settings.quick) return group(targets);
      return (await Promise.all(targets.map((target) => group([target])))).flat();
    },
  };
  let report: ScenarioReport | undefined;
  let error: string | undefined;
  try {
    report = await scenario.run(ctx);
  } catch (failure) {
    error = failure instanceof Error ? (failure.stack ?? failure.message) : String(failure);
  } finally {
    log("  stopping");
    await Promise.all(servers.map((s) => s.stop()));
    for (const database of databases) await database.drop();
  }
  reports.push({
    name: scenario.name,
    title: scenario.title,
    ...(report ? { report } : {}),
    ...(error ? { error } : {}),
  });
  if (report) {
    console.log(formatScenario(scenario.title, scenario.name, report));
    console.log(`  (${Math.round((Date.now() - begun) / 1000)} s)\n`);
  } else console.log(`## ${scenario.title} (${scenario.name})\n\n  FAILED: ${error}\n`);
  for (const { label, dir } of profiled) {
    console.log(
      `### CPU profile of ${label} (${scenario.name})\n${await summariseProfiles(dir)}\n`,
    );
  }
}
await server.close();

console.log(
  `load average (1 5 15 min) after: ${load()}; took ${Math.round((Date.now() - started) / 1000)} s`,
);
if (args.json)
  await writeFile(args.json, `${JSON.stringify({ settings, commit, reports }, null, 2)}\n`);
const failed = reports.filter((r) => r.error !== undefined);
if (failed.length > 0) {
  console.error(
    `${failed.length} scenario(s) failed to run: ${failed.map((r) => r.name).join(", ")}.`,
  );
  process.exit(1);
}
