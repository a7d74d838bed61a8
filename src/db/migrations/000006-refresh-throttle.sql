-- A change-triggered refresh runs at once when its product has not been computed for a
-- refresh delay (and no refresh of it is running), and otherwise a refresh delay after its
-- last compute (or after now, when one is running): a lone change reaches
-- subscribers in milliseconds, and a burst still costs at most one refresh per delay window
-- per product (the first at once, the rest folded into one waiting job). Before, every
-- refresh waited the whole delay, even the first of a quiet product.
create or replace function kck.enqueue_refreshes(keys text[], delay_ms double precision, max_attempts integer)
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
               greatest(now(), last.at + make_interval(secs => delay_ms / 1000.0)),
               max_attempts, jk, null, null)::graphile_worker.job_spec
    -- Sorted, so that concurrent writers lock job rows in one order.
    from unnest(job_keys) as u(jk)
    -- The last refresh began at the product's last compute, or now if one is running (its
    -- successor waits a whole delay). A product never stored counts as computed now: its
    -- refresh finds nothing to do, so a burst of changes to it should fold as before.
    cross join lateral (select greatest(
      coalesce((select p.computed_at from kck.products p where p.key = substr(jk, 13)), now()),
      (select now() from graphile_worker._private_jobs pj
        where pj.key = jk and pj.locked_at is not null)) as at) as last
    order by jk
  ), true);
end
$$;
