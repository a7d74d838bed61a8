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
