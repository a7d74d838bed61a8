-- Bounds on the store. pinned_until: until when an instance says it has subscribers of the
-- product (renewed while they stay); eviction leaves a pinned product alone, since a product
-- that is not stored is not refreshed, and its subscribers would never hear of a change.
alter table kck.products add column pinned_until timestamptz;

-- Eviction picks each primer's products by when they were last used (read, else computed,
-- else written): least recently used first.
create index products_primer_used_idx
  on kck.products (primer, (coalesce(read_at, computed_at, updated_at)));
