-- Products: one row per key. A row with computed_at null holds only a failure (no value yet).
create table kck.products (
  key text primary key,
  primer text not null,
  params jsonb not null,
  value jsonb,
  hash text,
  version bigint not null default 0,
  computed_at timestamptz,
  fresh_until timestamptz,
  stale_until timestamptz,
  compute_count integer not null default 0,
  last_compute_ms double precision,
  last_error text,
  last_error_at timestamptz,
  error_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index products_primer_idx on kck.products (primer);

-- dependent read dependency while it was computed; recorded automatically at each compute.
create table kck.dependencies (
  dependent text not null references kck.products (key) on delete cascade,
  dependency text not null,
  primary key (dependent, dependency)
);

create index dependencies_dependency_idx on kck.dependencies (dependency, dependent);
