-- The transaction that last changed each product's value (grew its version). A dependent that
-- an augment rule brought up to date in place was changed by the very transaction that changed
-- the product it depends on: the propagation job leaves it alone instead of recomputing what it
-- already holds. (Comparing the rows' xmin instead was wrong: any statement that touches both
-- rows, such as the batched read-time update, makes them equal.)
alter table kck.products add column changed_by xid8;
