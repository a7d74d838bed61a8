import { createHash } from "node:crypto";
import type { Queryable } from "../db/db.ts";
import { quoteIdent } from "../db/quote-ident.ts";
import { type KeyShape, keyExpression, literal } from "./key-expression.ts";

// Source triggers: one trigger function per primer and source table, in schema kck, that
// queues refreshes (`kck.enqueue_refreshes`) for the products a writing statement touched.

// The name prefix of every source trigger function (and, with "kck_", of its triggers).
const PREFIX = "src_";

/** What a source trigger needs of its primer. */
export interface TriggerPrimer extends KeyShape {
  readonly policies: { readonly delayMs: number; readonly maxAttempts: number };
}

/** A source table as a primer declares it. */
export interface TriggerSource {
  /** Schema and table name, unquoted (schema undefined: the search path's). */
  readonly schema: string | undefined;
  readonly table: string;
  /** The column of each param, in the primer's param order; undefined: every stored product. */
  readonly columns: readonly string[] | undefined;
}

/** One source trigger: its function's name, its table, and the SQL that installs it. */
export interface SourceTrigger {
  readonly primer: string;
  readonly name: string;
  readonly table: string;
  readonly install: string;
  /** A hash of `install`: unchanged means nothing to do. */
  readonly fingerprint: string;
}

/**
 * The source trigger of one primer on one table: its name (a hash of both) and the DDL that
 * installs it, statement-level triggers with transition tables, so one job statement per
 * writing statement however many rows it touched. UPDATE refreshes the old and the new params
 * of a moved row; without columns, any change refreshes every stored product of the primer.
 */
export function sourceTrigger(primer: TriggerPrimer, source: TriggerSource): SourceTrigger {
  // DDL takes no bind parameters: identifiers go through quoteIdent, text through `literal`
  // (quotes doubled), and the numbers come from checked primer policies.
  const table = source.schema
    ? `${quoteIdent(source.schema)}.${quoteIdent(source.table)}`
    : quoteIdent(source.table);
  const id = createHash("sha1")
    .update(`${primer.name}\0${source.schema ?? ""}\0${source.table}`)
    .digest("hex")
    .slice(0, 20);
  const name = `${PREFIX}${id}`;
  const { delayMs, maxAttempts } = primer.policies;
  const enqueue = (keys: string) =>
    `perform kck.enqueue_refreshes(array(${keys}), ${delayMs}, ${maxAttempts});`;
  const all = `select key from kck.products where primer = ${literal(primer.name)}`;
  const columns = source.columns;
  const keysOf = (rows: string) =>
    columns === undefined ? all : `select ${keyExpression(primer, columns, "r")} from ${rows} as r`;
  const body = `begin
  if tg_op = 'TRUNCATE' then
    ${enqueue(all)}
  elsif tg_op = 'INSERT' then
    ${enqueue(keysOf("kck_new"))}
  elsif tg_op = 'UPDATE' then
    ${enqueue(`${keysOf("kck_old")} union ${keysOf("kck_new")}`)}
  else
    ${enqueue(keysOf("kck_old"))}
  end if;
  return null;
end`;
  const fn = `kck.${quoteIdent(name)}`;
  const trigger = (suffix: string) => quoteIdent(`kck_${name}_${suffix}`);
  const install = `
create or replace function ${fn}() returns trigger language plpgsql as $kck$
${body}
$kck$;
drop trigger if exists ${trigger("i")} on ${table};
drop trigger if exists ${trigger("u")} on ${table};
drop trigger if exists ${trigger("d")} on ${table};
drop trigger if exists ${trigger("t")} on ${table};
create trigger ${trigger("i")} after insert on ${table}
  referencing new table as kck_new for each statement execute function ${fn}();
create trigger ${trigger("u")} after update on ${table}
  referencing old table as kck_old new table as kck_new for each statement execute function ${fn}();
create trigger ${trigger("d")} after delete on ${table}
  referencing old table as kck_old for each statement execute function ${fn}();
create trigger ${trigger("t")} after truncate on ${table}
  for each statement execute function ${fn}();`;
  const fingerprint = createHash("sha1").update(install).digest("base64url");
  return {
    primer: primer.name,
    name,
    table: source.schema ? `${source.schema}.${source.table}` : source.table,
    install: `${install}\ncomment on function ${fn}() is ${literal(`kck source trigger of primer ${primer.name} on ${source.table}; ${fingerprint}`)};`,
    fingerprint,
  };
}

/** The installed KCK source trigger functions: name → comment and number of triggers. */
export async function installedSourceTriggers(
  q: Queryable,
): Promise<Map<string, { name: string; comment: string | null; triggers: number }>> {
  const { rows } = await q.query<{ name: string; comment: string | null; triggers: number }>(
    `select p.proname as name, obj_description(p.oid, 'pg_proc') as comment,
       (select count(*)::int from pg_trigger t where t.tgfoid = p.oid) as triggers
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'kck' and p.proname like $1`,
    [`${PREFIX}%`],
  );
  return new Map(rows.map((row) => [row.name, row]));
}

/** Installs (or replaces) a source trigger: its function, its four triggers, its comment. */
export async function installSourceTrigger(q: Queryable, trigger: SourceTrigger): Promise<void> {
  await q.query(trigger.install);
}

/** Drops a source trigger function and, with it, its triggers. */
export async function dropSourceTrigger(q: Queryable, name: string): Promise<void> {
  await q.query(`drop function kck.${quoteIdent(name)}() cascade`);
}

/** Whether a table exists (`schema.table` or a name on the search path). */
export async function tableExists(q: Queryable, table: string): Promise<boolean> {
  const { rows } = await q.query<{ exists: boolean }>(
    "select to_regclass($1) is not null as exists",
    [table],
  );
  return rows[0]?.exists === true;
}
