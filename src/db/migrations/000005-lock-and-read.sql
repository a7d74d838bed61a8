-- A compute's start in one round trip: take the key's compute lock (the session-level lock
-- `tryLock` takes) and, only when it is taken, read the key's row. One plain statement cannot
-- do both: its snapshot is taken before the lock, so it could miss a value that the previous
-- holder committed just before letting go, and the key would be computed twice. A volatile
-- function takes a fresh snapshot for each statement in it, here after the lock.
create function kck.lock_and_read(k text, out locked boolean, out product kck.products)
language plpgsql volatile as $$
begin
  locked := pg_try_advisory_lock(hashtextextended(k, 0));
  if locked then
    select * into product from kck.products as p where p.key = k;
  end if;
end
$$;

-- A read that takes the compute lock only when it finds nothing to serve: the row unless it is
-- fresh or stale (by the database's clock), in which case the lock is tried and, when taken,
-- the row read again after it, as above. A miss then costs one round trip before its compute
-- instead of two; a hit costs what a plain read does and takes no lock.
create function kck.read_or_lock(k text, out locked boolean, out product kck.products)
language plpgsql volatile as $$
begin
  locked := false;
  select * into product from kck.products as p where p.key = k;
  if product.computed_at is not null and (product.fresh_until is null
      or product.fresh_until > now() or product.stale_until is null or product.stale_until > now())
  then
    return;
  end if;
  locked := pg_try_advisory_lock(hashtextextended(k, 0));
  if locked then
    select * into product from kck.products as p where p.key = k;
  end if;
end
$$;
