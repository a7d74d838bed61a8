-- Key segments built in SQL exactly as JavaScript's formatKey writes them, for source
-- triggers. A value no key can hold (a fraction for an Int param, a number out of range, NaN)
-- gives null, which kck.enqueue_refreshes skips: no product can have such a key.

-- Number.prototype.toString. PostgreSQL prints the shortest digits that read back as the same
-- double (extra_float_digits > 0, pinned here whatever the session says), except for doubles of
-- 2^53 and more (all whole numbers), which it prints with up to 17 digits of their exact value
-- ('68663548633683696' where JavaScript writes '68663548633683700'): for those the shortest
-- digits are searched here, the nearest first. It also places the point and writes exponents
-- differently ('1e-07', '1e+20' where JavaScript writes '1e-7' and '100000000000000000000'),
-- and keeps the sign of -0 (JavaScript writes '0').
create function kck.key_float(v double precision) returns text
language plpgsql immutable strict parallel safe set extra_float_digits = 1 as $$
declare
  t text;
  mantissa text;
  digits text;
  n integer;
  k integer;
  p integer;
  lo text;
  hi text;
  lo_ok boolean;
  hi_ok boolean;
  rest numeric;
  negative boolean;
begin
  if v = 'NaN'::float8 or v = 'Infinity'::float8 or v = '-Infinity'::float8 then
    return null;
  end if;
  if v = 0 then return '0'; end if;
  t := v::text;
  negative := left(t, 1) = '-';
  if negative then t := substr(t, 2); end if;
  mantissa := split_part(t, 'e', 1);
  -- The value is 0.<digits> × 10^n.
  n := coalesce(nullif(position('.' in mantissa), 0) - 1, length(mantissa))
       + coalesce(nullif(split_part(t, 'e', 2), '')::integer, 0);
  digits := replace(mantissa, '.', '');
  while left(digits, 1) = '0' loop
    digits := substr(digits, 2);
    n := n - 1;
  end loop;
  if abs(v) >= 9007199254740992 then
    for p in 1..length(digits) loop
      lo := left(digits, p);
      hi := (lo::numeric + 1)::text;
      lo_ok := (lo || 'e' || (n - p))::float8 = abs(v);
      -- Past the largest double, the cast would fail.
      hi_ok := case when (hi || 'e' || (n - p))::numeric <= 1.7976931348623157e308
                    then (hi || 'e' || (n - p))::float8 = abs(v) else false end;
      if lo_ok or hi_ok then
        rest := ('0.' || substr(digits, p + 1) || '0')::numeric;
        if hi_ok and (not lo_ok or rest > 0.5 or (rest = 0.5 and right(lo, 1) in ('1', '3', '5', '7', '9'))) then
          -- 99 + 1 is 100: one more digit before the point.
          n := n + length(hi) - p;
          digits := hi;
        else
          digits := lo;
        end if;
        exit;
      end if;
    end loop;
  end if;
  digits := rtrim(digits, '0');
  k := length(digits);
  if k <= n and n <= 21 then
    t := digits || repeat('0', n - k);
  elsif 0 < n and n <= 21 then
    t := left(digits, n) || '.' || substr(digits, n + 1);
  elsif -6 < n and n <= 0 then
    t := '0.' || repeat('0', -n) || digits;
  else
    t := left(digits, 1) || case when k > 1 then '.' || substr(digits, 2) else '' end
         || 'e' || case when n >= 1 then '+' else '-' end || abs(n - 1)::text;
  end if;
  return case when negative then '-' || t else t end;
end
$$;

-- A real (float4) column: the double the pg driver gives JavaScript for it is the one its
-- shortest float4 text reads as (0.1, not the widened 0.10000000149011612).
create function kck.key_float(v real) returns text
language sql immutable strict parallel safe set extra_float_digits = 1 as $$
  select kck.key_float(v::text::double precision)
$$;

-- An Int param: a safe JavaScript integer (|v| < 2^53), written in decimal.
create function kck.key_int(v numeric) returns text
language sql immutable strict parallel safe as $$
  select case when v = trunc(v) and abs(v) <= 9007199254740991 then trunc(v)::text end
$$;

-- A BigInt param: a 64-bit integer, written in decimal.
create function kck.key_bigint(v numeric) returns text
language sql immutable strict parallel safe as $$
  select case when v = trunc(v) and v between -9223372036854775808 and 9223372036854775807
    then trunc(v)::text end
$$;
