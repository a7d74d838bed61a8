-- The version of the primer code that computed each stored value (an explicit `version` on
-- definePrimer, or a hash of its definition). At start, the products whose code version is not
-- their primer's current one stop being fresh. Null: stored before code versions were recorded.
alter table kck.products add column code_version text;
