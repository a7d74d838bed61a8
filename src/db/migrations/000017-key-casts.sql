-- Key segments from any column type a source may map a number param from, exactly as the pg
-- driver hands the value to JavaScript. Before, `(column)::numeric` kept 15 significant digits
-- of a double (1234567890123456 became 1234567890123460), and a numeric past a double's range
-- made a Float param's trigger raise, failing the writer's own statement.

-- The number a column given to an Int or BigInt param holds, exactly: a double or real
-- column's whole value (its cast to bigint is exact), any other column's value read as a
-- number. Null when it is no number, or a double that is no whole number within 64 bits (no
-- Int or BigInt key holds those); kck.key_int and kck.key_bigint check the rest.
create function kck.key_number(v anyelement) returns numeric
language plpgsql immutable strict parallel safe as $$
declare
  d double precision;
begin
  if pg_typeof(v) in ('double precision'::regtype, 'real'::regtype) then
    d := v::text::double precision;
    -- NaN is greater than every number in PostgreSQL, so it fails the range test too; 2^63 is
    -- the first double past the largest bigint.
    if not (abs(d) < 9223372036854775808) or d <> trunc(d) then return null; end if;
    return d::bigint::numeric;
  end if;
  return v::text::numeric;
exception when data_exception then
  return null;
end
$$;

-- A Float param from a numeric column: JavaScript's Number() of its text, which is ±Infinity
-- past a double's range (no key) and 0 below it.
create function kck.key_float(v numeric) returns text
language plpgsql immutable strict parallel safe as $$
begin
  return kck.key_float(v::double precision);
exception when numeric_value_out_of_range then
  return case when abs(v) < 1 then '0' end;
end
$$;
