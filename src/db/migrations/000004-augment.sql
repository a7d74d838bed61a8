-- Augments: a product's value changed in place by a delta instead of recomputed.
alter table kck.products
  add column augment_count integer not null default 0,
  add column last_augmented_at timestamptz;
