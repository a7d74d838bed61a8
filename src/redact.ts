// A password after `user:` and before the host's `@`, with or without a scheme (`postgres://`,
// or none: `user:secret@db:5432/app`); the password runs to the last `@` of the word, since
// an unencoded `@` in it is common. `//` right after the colon is a scheme, not a password.
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)?([^\s:@/?#"'=&]+):(?!\/\/)(\S*)@/gi;
// password=… in a URL's query (`?password=`, `&sslpassword=`) or in a key=value DSN
// (`host=db password='a b' user=x`), quoted or not.
const PARAM =
  /(^|[?&;\s"',{])((?:ssl)?pass(?:word|wd|phrase)?)("?\s*[=:]\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^&\s;,"'}]*)/gi;

/**
 * Replaces every password in a text with `***`: the password of a URL's user info (with a
 * scheme or without), and `password=` / `sslpassword=` / `passwd=` parameters in a URL's query
 * or a key=value connection string. Anything else is left as it is.
 */
export function redactSecrets(text: string): string {
  if (!text.includes("@") && !/pass/i.test(text)) return text;
  return text
    .replace(USERINFO, (_all, scheme: string | undefined, user: string) => {
      return `${scheme ?? ""}${user}:***@`;
    })
    .replace(PARAM, (_all, before: string, name: string, eq: string) => `${before}${name}${eq}***`);
}

/**
 * A copy of a log record's value with {@link redactSecrets} applied to every string in it, a
 * few levels deep. Error objects are left whole, for the logger's error serializer (which
 * redacts what it makes of them: message, stack, and fields such as Node's `input`).
 */
export function redactDeep(value: unknown, depth = 4): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (depth === 0 || typeof value !== "object" || value === null || value instanceof Error)
    return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth - 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = redactDeep(item, depth - 1);
  return copy;
}
