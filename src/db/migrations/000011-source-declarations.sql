-- Which running process declares which source trigger. Starting a process only ever adds
-- triggers; `kck migrate --prune` drops the ones that no live process (one whose advisory lock
-- 'kck-deployment:<deployment>' is held) and no primer of the pruning command declares. Rows of
-- processes that are gone are deleted by that prune.
create table kck.source_declarations (
  -- A random id per process start.
  deployment text not null,
  -- The trigger function's name in schema kck (src_…).
  trigger text not null,
  primer text not null,
  -- The source table, as declared.
  source text not null,
  declared_at timestamptz not null default now(),
  primary key (deployment, trigger)
);
