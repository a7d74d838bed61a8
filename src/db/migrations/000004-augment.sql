-- Augments: a product's value changed in place by a delta instead of recomputed.
alter table kck.products
  add column augment_count integer not null default 0,
  add column last_augmented_at timestamptz;

-- Values are stored uncompressed (still out of line when large): an augment rewrites the
-- whole value, and compressing tens of kilobytes at every write costs it about a
-- millisecond, several times what the write itself costs. Cache values trade disk for speed.
alter table kck.products alter column value set storage external;
