-- A version that says the product does not exist (its compute called `notFound`): the message
-- readers get with the code NOT_FOUND. Null for every other version. Stored, versioned and
-- pushed like any value; a transient failure leaves it (or the last good value) as it is.
alter table kck.products add column not_found text;
