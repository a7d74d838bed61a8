import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Db } from "../db/db.ts";
import { LOCK, xactLock } from "./locks.ts";

// The numbered SQL files stay with the database code; this runner is the SQL that applies them.
const MIGRATIONS_DIR = fileURLToPath(new URL("../db/migrations/", import.meta.url));

/** One numbered migration file. */
interface Migration {
  id: number;
  name: string;
  sql: string;
}

async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{6}-.+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (name) => ({
      id: Number(name.slice(0, 6)),
      name,
      sql: await readFile(`${MIGRATIONS_DIR}${name}`, "utf8"),
    })),
  );
}

/** Whether the database has every migration already: one read instead of one transaction each. */
async function allApplied(db: Db, migrations: readonly Migration[]): Promise<boolean> {
  try {
    const { rows } = await db.query<{ missing: number }>(
      `select count(*)::int as missing from unnest($1::int[]) as m(id)
       where not exists (select 1 from kck.migrations k where k.id = m.id)`,
      [migrations.map((m) => m.id)],
    );
    return rows[0]?.missing === 0;
  } catch {
    // No kck.migrations yet: a new database.
    return false;
  }
}

/**
 * Applies the numbered, forward-only migrations in `src/db/migrations/` that this database
 * has not seen yet, each in its own transaction, recorded in `kck.migrations`.
 *
 * @returns the names of the migrations applied now.
 */
export async function migrate(db: Db): Promise<string[]> {
  const migrations = await loadMigrations();
  if (await allApplied(db, migrations)) return [];
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      // Every KCK process takes this lock before migrating, so two processes starting at once
      // apply each migration exactly once.
      await xactLock(tx, LOCK.migrations);
      await tx.query("create schema if not exists kck");
      await tx.query(
        `create table if not exists kck.migrations (
           id integer primary key, name text not null, applied_at timestamptz not null default now())`,
      );
      const { rowCount } = await tx.query("select 1 from kck.migrations where id = $1", [
        migration.id,
      ]);
      if (rowCount > 0) return false;
      await tx.query(migration.sql);
      await tx.query("insert into kck.migrations (id, name) values ($1, $2)", [
        migration.id,
        migration.name,
      ]);
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return applied;
}
