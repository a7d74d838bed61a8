-- Augments a client sent with an idempotency key, per product: a retry of one that committed
-- (its answer lost with a dropped connection, say) is applied no second time. Written in the
-- augment's own transaction, under the product's lock, so a retry either finds the row or
-- the first attempt never committed. Rows older than a day go as the product takes new ones.
create table kck.augment_requests (
  product text not null,
  request text not null,
  version integer not null,
  created_at timestamptz not null default now(),
  primary key (product, request)
);
