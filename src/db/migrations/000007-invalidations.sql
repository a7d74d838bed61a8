-- How many times each product was invalidated (expired on purpose). A compute reads it under
-- its lock before it reads any data; when it grew by the time the compute stores its value, an
-- invalidation came while the compute ran, so the value may be built from data the
-- invalidation said had changed: it is stored already expired, and the next read recomputes
-- it, instead of the invalidation being lost under the compute's new freshness.
alter table kck.products add column invalidations integer not null default 0;
