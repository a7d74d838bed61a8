import { createHash } from "node:crypto";
import { type Db, type Queryable, quoteIdent } from "../db/db.ts";
import { KckError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import type { SourceTable } from "../primer/policies.ts";
import { keyExpression } from "./key-sql.ts";

/** Any fixed number: trigger installation (and pruning) by processes at once is serialised. */
export const INSTALL_LOCK = 7_263_002;
// The name prefix of every source trigger function (and, with "kck_", of its triggers).
const PREFIX = "src_";

// DDL takes no bind parameters: identifiers go through quoteIdent, text through `literal`
// (quotes doubled), and the numbers come from checked primer policies.
const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** One source trigger: its function's name, its table, and the SQL that installs it. */
interface SourceTrigger {
  readonly primer: string;
  readonly name: string;
  readonly table: string;
  readonly install: string;
  /** A hash of `install`: unchanged means nothing to do. */
  readonly fingerprint: string;
}

function sourceTrigger(primer: AnyPrimer, source: SourceTable): SourceTrigger {
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
  // Statement-level triggers with transition tables: one job statement per writing statement,
  // however many rows it touched. UPDATE refreshes the old and the new params of a moved row.
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

/** The names of the trigger functions these primers declare. */
export function declaredTriggerNames(primers: readonly AnyPrimer[]): Set<string> {
  return new Set(
    primers.flatMap((primer) => primer.policies.sources.map((s) => sourceTrigger(primer, s).name)),
  );
}

/**
 * Installs the source triggers every primer declares, additively and idempotently: a trigger
 * whose SQL is unchanged is left alone (no table lock taken), a changed one is replaced, and
 * none is ever dropped here, since another live deployment on the database may need triggers
 * this process does not declare (`kck migrate --prune` drops those nobody declares). Records,
 * in the same transaction, that `deployment` declares them, for that prune. Nothing is changed
 * unless every declared source table exists.
 *
 * @param deployment this process's id, whose liveness lock it holds ({@link holdDeployment}).
 * @returns the names of the trigger functions installed or replaced now.
 */
export async function installSourceTriggers(
  db: Db,
  primers: readonly AnyPrimer[],
  log: Logger,
  deployment: string,
): Promise<string[]> {
  const wanted = primers.flatMap((primer) =>
    primer.policies.sources.map((source) => sourceTrigger(primer, source)),
  );
  const upToDate = (
    installed: Awaited<ReturnType<typeof installedSourceTriggers>>,
    trigger: SourceTrigger,
  ) => {
    const row = installed.get(trigger.name);
    return row !== undefined && row.triggers === 4 && !!row.comment?.endsWith(trigger.fingerprint);
  };
  const declare = (q: Queryable) =>
    q.query(
      `insert into kck.source_declarations (deployment, trigger, primer, source)
       select $1, t, p, s from unnest($2::text[], $3::text[], $4::text[]) as u(t, p, s)
       on conflict do nothing`,
      [
        deployment,
        wanted.map((t) => t.name),
        wanted.map((t) => t.primer),
        wanted.map((t) => t.table),
      ],
    );
  if (wanted.length === 0) return [];
  const before = await installedSourceTriggers(db);
  if (wanted.every((t) => upToDate(before, t))) {
    await declare(db);
    return [];
  }
  return db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [INSTALL_LOCK]);
    const installed = await installedSourceTriggers(tx);
    const changed: string[] = [];
    for (const trigger of wanted) {
      if (upToDate(installed, trigger)) continue;
      const { rows } = await tx.query<{ exists: boolean }>(
        "select to_regclass($1) is not null as exists",
        [trigger.table],
      );
      if (!rows[0]?.exists) {
        throw new KckError(
          "BAD_CONFIG",
          `Primer "${trigger.primer}" declares source table "${trigger.table}", which does not exist; create it first (a primer module's setup runs before the triggers are installed).`,
        );
      }
      await tx.query(trigger.install);
      changed.push(trigger.name);
    }
    await declare(tx);
    if (changed.length > 0) log.info({ triggers: changed }, "installed source triggers");
    return changed;
  });
}
