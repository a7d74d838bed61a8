import { type Duration, toMs } from "../duration.ts";
import { KckError } from "../errors.ts";
import type { ParamsOf, ParamsSpec } from "./params.ts";

/** What a product does when a product it read gets a new value. */
export type DependencyPolicy = "refresh" | "invalidate";

/** A PostgreSQL table a primer reads, and how a row of it maps to the params it affects. */
export interface SourceOptions<S extends ParamsSpec> {
  /** The table, optionally schema-qualified (`"books"`, `"shop.orders"`), as in the catalog. */
  table: string;
  /**
   * The column that holds each param, for every param of the primer:
   * `{ authorId: "author_id" }`. The mapping runs in SQL inside the trigger, in the writer's
   * transaction. Omitted: any change refreshes every stored product of the primer.
   */
  params?: { readonly [K in keyof S]: string };
}

/** What a schedule's `domain` receives. */
export interface DomainContext {
  /** Runs one parameterised SQL statement on the cache's database and returns its rows. */
  sql<R extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<R[]>;
}

/** When, and which of its products, a primer refreshes on a schedule. */
export interface ScheduleOptions<S extends ParamsSpec> {
  /** Refresh on this interval (`"30s"`, `"5m"`). */
  every?: Duration;
  /** Refresh on this cron expression (`"0 * * * *"`: five fields, minute resolution, UTC). */
  cron?: string;
  /** Refresh only the products read within this window (read times are recorded in batches). */
  readWithin?: Duration;
  /** Refresh these params (computing them when missing): domain warming, e.g. every author id. */
  domain?: (ctx: DomainContext) => Promise<readonly ParamsOf<S>[]> | readonly ParamsOf<S>[];
}

/** What is likely asked next after a product is read: keys, or params of the same primer. */
export type Hints<S extends ParamsSpec> = (
  params: ParamsOf<S>,
) => ReadonlyArray<string | ParamsOf<S>>;

/** A source table, checked: its name parts and, per param in key order, its column. */
export interface SourceTable {
  /** Schema and table name, unquoted (schema undefined: the search path's). */
  readonly schema: string | undefined;
  readonly table: string;
  /** The column of each param, in the primer's param order; undefined: every stored product. */
  readonly columns: readonly string[] | undefined;
}

/** A schedule, checked and in milliseconds. */
export interface Schedule<S extends ParamsSpec> {
  readonly everyMs: number | undefined;
  readonly cron: string | undefined;
  readonly readWithinMs: number | undefined;
  readonly domain: ScheduleOptions<S>["domain"];
}

/** A primer's background refresh policies, normalised. */
export interface RefreshPolicies<S extends ParamsSpec> {
  readonly sources: readonly SourceTable[];
  readonly schedule: Schedule<S> | undefined;
  readonly onDependencyChange: DependencyPolicy;
  readonly hints: Hints<S> | undefined;
  /** Milliseconds a triggered or dependent refresh waits for more changes to fold in. */
  readonly delayMs: number;
  readonly maxAttempts: number;
}

/** The policy options of a primer, as declared. */
export interface PolicyOptions<S extends ParamsSpec> {
  sources?: readonly SourceOptions<S>[];
  schedule?: ScheduleOptions<S>;
  onDependencyChange?: DependencyPolicy;
  hints?: Hints<S>;
  refreshDelay?: Duration;
  maxAttempts?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

const bad = (primer: string, message: string): KckError =>
  new KckError("BAD_CONFIG", `Primer "${primer}": ${message}`);

function sourceTable<S extends ParamsSpec>(
  primer: string,
  spec: S,
  source: SourceOptions<S>,
): SourceTable {
  const parts = source.table.split(".");
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw bad(
      primer,
      `a source table must be a name such as "books" or "shop.orders"; got "${source.table}".`,
    );
  }
  const [schema, table] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (source.params === undefined) return { schema, table: table as string, columns: undefined };
  const mapping = source.params as Record<string, unknown>;
  const names = Object.keys(spec);
  const extra = Object.keys(mapping).filter((name) => !names.includes(name));
  if (extra.length > 0) {
    throw bad(primer, `source "${source.table}" maps unknown params: ${extra.join(", ")}.`);
  }
  const columns = names.map((name) => {
    const column = mapping[name];
    if (typeof column !== "string" || !IDENTIFIER.test(column)) {
      throw bad(
        primer,
        `source "${source.table}" must map param "${name}" to a column name; got ${JSON.stringify(column) ?? "nothing"}.`,
      );
    }
    return column;
  });
  return { schema, table: table as string, columns };
}

function schedule<S extends ParamsSpec>(primer: string, options: ScheduleOptions<S>): Schedule<S> {
  if (options.every === undefined && options.cron === undefined) {
    throw bad(primer, 'a schedule needs `every` (such as "5m") or `cron` (such as "0 * * * *").');
  }
  if (options.readWithin !== undefined && options.domain !== undefined) {
    throw bad(primer, "a schedule takes `readWithin` or `domain`, not both.");
  }
  const everyMs =
    options.every === undefined ? undefined : toMs(options.every, `schedule of primer "${primer}"`);
  if (everyMs !== undefined && (!Number.isFinite(everyMs) || everyMs < 10)) {
    throw bad(primer, `schedule.every must be at least 10 ms and finite; got ${options.every}.`);
  }
  return {
    everyMs,
    cron: options.cron?.trim(),
    readWithinMs:
      options.readWithin === undefined
        ? undefined
        : toMs(options.readWithin, `schedule.readWithin of primer "${primer}"`),
    domain: options.domain,
  };
}

/** Checks a primer's policy options and converts their durations. */
export function normalisePolicies<S extends ParamsSpec>(
  primer: string,
  spec: S,
  options: PolicyOptions<S>,
): RefreshPolicies<S> {
  const onDependencyChange = options.onDependencyChange ?? "refresh";
  if (onDependencyChange !== "refresh" && onDependencyChange !== "invalidate") {
    throw bad(
      primer,
      `onDependencyChange must be "refresh" or "invalidate"; got "${onDependencyChange}".`,
    );
  }
  const maxAttempts = options.maxAttempts ?? 10;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 32_767) {
    throw bad(primer, `maxAttempts must be a whole number from 1 to 32767; got ${maxAttempts}.`);
  }
  const delayMs = toMs(options.refreshDelay ?? 100, `refreshDelay of primer "${primer}"`);
  if (!Number.isFinite(delayMs)) throw bad(primer, "refreshDelay must be finite.");
  return {
    sources: (options.sources ?? []).map((source) => sourceTable(primer, spec, source)),
    schedule: options.schedule === undefined ? undefined : schedule(primer, options.schedule),
    onDependencyChange,
    hints: options.hints,
    delayMs,
    maxAttempts,
  };
}
