-- Background work on graphile-worker: read tracking, key formatting in SQL, and the functions
-- that source triggers and dependency propagation use to add refresh jobs in the writer's own
-- transaction. The plpgsql bodies reference graphile_worker lazily: its schema is installed
-- by the job system at start, after this migration.

-- When a product was last read, written in batches (never once per read).
alter table kck.products add column read_at timestamptz;
create index products_primer_read_idx on kck.products (primer, read_at);

-- encodeURIComponent, exactly: source triggers build canonical keys from row values.
create function kck.uri_component(t text) returns text
language sql immutable strict parallel safe as $$
  select case when t ~ '^[A-Za-z0-9_.!~*''()-]*$' then t else (
    select string_agg(
      case when c ~ '^[A-Za-z0-9_.!~*''()-]$' then c
           else upper(regexp_replace(encode(convert_to(c, 'UTF8'), 'hex'), '(..)', '%\1', 'g'))
      end, '' order by i)
    from unnest(string_to_array(t, null)) with ordinality as chars(c, i)
  ) end
$$;

-- Adds one forced-refresh job per key, for a change (a source row, a dependency). A waiting
-- job with the same key absorbs the new reason and keeps its run time, so a burst of changes
-- costs one refresh per delay window (and a failing refresh keeps its backoff instead of being
-- retried at every change); a job already running gets a successor, so a change that arrives
-- mid-refresh is not lost.
create function kck.enqueue_refreshes(keys text[], delay_ms double precision, max_attempts integer)
returns void language plpgsql volatile as $$
declare
  job_keys text[];
  waiting integer;
begin
  job_keys := array(select distinct 'kck:refresh:' || k from unnest(keys) as u(k)
                    where k is not null order by 1);
  if cardinality(job_keys) = 0 then return; end if;
  -- Fast path, when every key already has a waiting job (not started, not failed for good):
  -- that job covers the change. A share lock on it until this transaction ends keeps workers
  -- (FOR UPDATE SKIP LOCKED) from starting it before the change is committed, without making
  -- concurrent writers of one product wait for each other, as the upsert's row lock would.
  -- Otherwise the share locks are rolled back (a subtransaction) before the upsert, since two
  -- writers upgrading share locks to exclusive ones would deadlock. This reads graphile-worker
  -- 0.17's job table directly (the version is pinned).
  begin
    select count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts)
      into waiting
    from (select pj.locked_at, pj.attempts, pj.max_attempts from graphile_worker._private_jobs pj
          where pj.key = any(job_keys) order by pj.key for share) as j;
    if waiting = cardinality(job_keys) then return; end if;
    raise exception using errcode = 'KCK01';
  exception when sqlstate 'KCK01' then
    null;
  end;
  perform graphile_worker.add_jobs(array(
    select row('kck_refresh', json_build_object('key', substr(jk, 13)), null,
               now() + make_interval(secs => delay_ms / 1000.0), max_attempts,
               jk, null, null)::graphile_worker.job_spec
    -- Sorted, so that concurrent writers lock job rows in one order.
    from unnest(job_keys) as u(jk)
  ), true);
end
$$;

-- The keys among `keys` with no live job (waiting, running or retrying) of the given kinds.
create function kck.idle_keys(keys text[], kinds text[]) returns text[]
language plpgsql stable as $$
begin
  return array(
    select distinct k from unnest(keys) as u(k)
    where k is not null and not exists (
      select 1 from graphile_worker._private_jobs pj
      where pj.key = any(array(select 'kck:' || kind || ':' || k from unnest(kinds) as v(kind)))
        and (pj.locked_at is not null or pj.attempts < pj.max_attempts))
    order by k);
end
$$;

-- Adds forced-refresh jobs for a schedule tick, only for keys with no live refresh job: a
-- tick brings no news, so a refresh that waits, runs or backs off already covers it.
create function kck.enqueue_scheduled(keys text[], max_attempts integer)
returns void language plpgsql volatile as $$
begin
  perform graphile_worker.add_jobs(specs, true) from (select array(
    select row('kck_refresh', json_build_object('key', k), null, now(), max_attempts,
               'kck:refresh:' || k, null, null)::graphile_worker.job_spec
    from unnest(kck.idle_keys(keys, array['refresh'])) as u(k)
  ) as specs) as batch where cardinality(specs) > 0;
end
$$;

-- Adds prime jobs (compute unless fresh), run as soon as a worker is free, for keys with no
-- live refresh or prime job: one already covers it, and a failing one keeps its backoff.
create function kck.enqueue_primes(keys text[], max_attempts integer)
returns void language plpgsql volatile as $$
begin
  perform graphile_worker.add_jobs(specs, true) from (select array(
    select row('kck_prime', json_build_object('key', k), null, now(), max_attempts,
               'kck:prime:' || k, null, null)::graphile_worker.job_spec
    from unnest(kck.idle_keys(keys, array['refresh', 'prime'])) as u(k)
  ) as specs) as batch where cardinality(specs) > 0;
end
$$;

-- When a product's value really changes (its version grows) and something depends on it, a
-- propagation job is added in the same transaction: the wave of dependent refreshes cannot be
-- lost to a crash between the write and its follow-up. An unchanged hash keeps the version,
-- so nothing fires (early cutoff).
create function kck.product_changed() returns trigger language plpgsql as $$
begin
  if exists (select 1 from kck.dependencies where dependency = new.key)
     and to_regnamespace('graphile_worker') is not null then
    perform graphile_worker.add_job('kck_propagate', json_build_object('key', new.key),
      job_key => 'kck:propagate:' || new.key, max_attempts => 10);
  end if;
  return null;
end
$$;

create trigger products_changed after update of version on kck.products
  for each row when (new.version > old.version) execute function kck.product_changed();
