import { readFile } from "node:fs/promises";
import { Presets, SingleBar } from "cli-progress";
import type { Command } from "commander";
import type { Engine } from "../../engine/engine.ts";
import type { StoredProduct } from "../../engine/product.ts";
import { messageOf } from "../../errors.ts";
import type { ParsedKey } from "../../keys.ts";
import { positiveInt } from "../args.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { print, printJson } from "../output.ts";
import { type ConfigReader, type EngineSession, withEngine } from "../session.ts";

interface PrimeOptions {
  primer?: string;
  paramsSql?: string;
  paramsJson?: string;
  concurrency: number;
  progress?: boolean;
  json?: boolean;
}

/**
 * `kck prime`: computes products ahead of demand (those missing, stale or expired), given by
 * key or as a primer's domain: the rows of a read-only SQL query, or a JSON file of params.
 * Draws a progress bar on stderr; ends with exit 1 when any compute failed.
 */
export function addPrime(program: Command, config: ConfigReader): void {
  program
    .command("prime")
    .description("compute products ahead of demand: keys, or every product of a primer's domain")
    .argument("[keys...]", "the products' keys")
    .option("--primer <name>", "prime this primer's products (params from --params-sql/-json)")
    .option(
      "--params-sql <sql>",
      "a read-only query whose rows are params (columns named as params)",
    )
    .option("--params-json <file>", "a JSON array of params objects (- reads stdin)")
    .option("-c, --concurrency <n>", "how many products are computed at once", positiveInt, 4)
    .option("--progress", "draw the progress bar even when stderr is not a terminal")
    .option("--no-progress", "never draw the progress bar")
    .option("--json", "print the outcome as JSON")
    .action(async (keys: string[], options: PrimeOptions) => {
      await withEngine(config(), { setups: true }, async (session) => {
        const targets = await collectTargets(session, keys, options);
        const outcome = await primeAll(session.engine, targets, options);
        if (options.json) printJson(outcome);
        else {
          print(
            `primed ${outcome.keys.length} products: ${outcome.computed} computed, ${outcome.alreadyFresh} already fresh, ${outcome.failed.length} failed`,
          );
          for (const { key, error } of outcome.failed) print(`failed ${key}: ${error}`);
        }
        if (outcome.failed.length > 0) {
          throw new CliError(
            EXIT.FAILURE,
            `${outcome.failed.length} of ${outcome.keys.length} products failed to compute.`,
          );
        }
      });
    });
}

/** Every key to prime, checked before any work starts, each once, in the order given. */
async function collectTargets(
  { engine, db }: EngineSession,
  keys: readonly string[],
  options: PrimeOptions,
): Promise<ParsedKey[]> {
  const targets = keys.map((key) => engine.parse(key));
  if (options.primer === undefined) {
    if (options.paramsSql !== undefined || options.paramsJson !== undefined)
      throw new CliError(EXIT.USAGE, "--params-sql and --params-json need --primer NAME.");
    if (targets.length === 0)
      throw new CliError(EXIT.USAGE, "Give keys to prime, or --primer NAME with its params.");
  } else {
    const primer = engine.primers.get(options.primer);
    if (primer === undefined) {
      const known = [...engine.primers.keys()].sort().join(", ");
      throw new CliError(EXIT.USAGE, `There is no primer "${options.primer}"; known: ${known}.`);
    }
    let rows: Record<string, unknown>[];
    if (options.paramsSql !== undefined && options.paramsJson !== undefined)
      throw new CliError(EXIT.USAGE, "Give --params-sql or --params-json, not both.");
    if (options.paramsSql !== undefined) {
      // The operator's own query, run as given: read-only, so that priming cannot write.
      const sql = options.paramsSql;
      rows = await db
        .transaction(async (tx) => {
          await tx.query("set transaction read only");
          return (await tx.query(sql)).rows;
        })
        .catch((error: unknown) => {
          throw new CliError(
            EXIT.USAGE,
            `The --params-sql query failed: ${messageOf(error)}. It must be a read-only query whose columns are named as the primer's params.`,
          );
        });
    } else if (options.paramsJson !== undefined) rows = await readParamsJson(options.paramsJson);
    else if (primer.paramNames.length === 0) rows = [{}];
    else
      throw new CliError(
        EXIT.USAGE,
        `Primer "${primer.name}" takes params (${primer.paramNames.join(", ")}): give --params-sql or --params-json.`,
      );
    targets.push(...rows.map((row) => engine.resolve(primer, row)));
  }
  const seen = new Set<string>();
  return targets.filter((t) => !seen.has(t.key) && seen.add(t.key));
}

async function readParamsJson(file: string): Promise<Record<string, unknown>[]> {
  const text = file === "-" ? await readStdin() : await readFile(file, "utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(EXIT.USAGE, `${file} is not JSON: ${messageOf(error)}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === "object" && p !== null))
    throw new CliError(EXIT.USAGE, `${file} must hold a JSON array of params objects.`);
  return parsed as Record<string, unknown>[];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** What a prime did. */
interface PrimeOutcome {
  keys: string[];
  /** Products computed now. */
  computed: number;
  /** Products that were fresh already, so left alone. */
  alreadyFresh: number;
  failed: { key: string; error: string }[];
}

async function primeAll(
  engine: Engine,
  targets: readonly ParsedKey[],
  options: PrimeOptions,
): Promise<PrimeOutcome> {
  const keys = targets.map((t) => t.key);
  const before = byKey(await engine.productsByKey(keys));
  const bar =
    (options.progress ?? process.stderr.isTTY)
      ? new SingleBar(
          {
            stream: process.stderr,
            noTTYOutput: true,
            notTTYSchedule: 500,
            format:
              "priming [{bar}] {percentage}% {value}/{total} products, {failed} failed, eta {eta_formatted}",
            hideCursor: true,
          },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(keys.length, 0, { failed: 0 });
  let failures = 0;
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      const errorsBefore = before.get(key)?.errorCount ?? 0;
      await engine.prime([key]);
      // prime() records failures on the product instead of throwing: count them from there.
      const [after] = await engine.productsByKey([key]);
      if ((after?.errorCount ?? 0) > errorsBefore) failures++;
      bar?.increment({ failed: failures });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, keys.length) }, work));
  bar?.stop();
  const after = byKey(await engine.productsByKey(keys));
  const outcome: PrimeOutcome = { keys, computed: 0, alreadyFresh: 0, failed: [] };
  for (const key of keys) {
    const was = before.get(key);
    const now = after.get(key);
    if (now && now.errorCount > (was?.errorCount ?? 0))
      outcome.failed.push({ key, error: now.lastError ?? "unknown error" });
    else if (now && now.computeCount > (was?.computeCount ?? 0)) outcome.computed++;
    else outcome.alreadyFresh++;
  }
  return outcome;
}

const byKey = (products: readonly StoredProduct[]) => new Map(products.map((p) => [p.key, p]));
