import type { Queryable } from "../db/db.ts";

// kck.source_declarations (migration 000011): which source triggers each running process
// (deployment) declares, so that `kck migrate --prune` keeps those a live process needs.

/** One source trigger a deployment declares. */
export interface Declaration {
  /** The trigger function's name. */
  readonly trigger: string;
  readonly primer: string;
  /** The source table, as the primer names it. */
  readonly source: string;
}

/** Records that `deployment` declares these triggers (already recorded ones are kept). */
export async function declareTriggers(
  q: Queryable,
  deployment: string,
  declarations: readonly Declaration[],
): Promise<void> {
  await q.query(
    `insert into kck.source_declarations (deployment, trigger, primer, source)
     select $1, t, p, s from unnest($2::text[], $3::text[], $4::text[]) as u(t, p, s)
     on conflict do nothing`,
    [
      deployment,
      declarations.map((d) => d.trigger),
      declarations.map((d) => d.primer),
      declarations.map((d) => d.source),
    ],
  );
}

/** The deployments that declare anything. */
export async function declaringDeployments(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ deployment: string }>(
    "select distinct deployment from kck.source_declarations",
  );
  return rows.map((row) => row.deployment);
}

/** The trigger functions any deployment declares. */
export async function declaredTriggers(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ trigger: string }>(
    "select distinct trigger from kck.source_declarations",
  );
  return rows.map((row) => row.trigger);
}

/** Forgets what these deployments declared. */
export async function forgetDeclarations(
  q: Queryable,
  deployments: readonly string[],
): Promise<void> {
  await q.query("delete from kck.source_declarations where deployment = any($1::text[])", [
    deployments,
  ]);
}
