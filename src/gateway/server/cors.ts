/** yoga's `cors` option: a decision per request, or off. */
type CorsDecision = (request: Request) =>
  | {
      origin: string;
      credentials: false;
      methods: string[];
      allowedHeaders: string[];
      exposedHeaders: string[];
    }
  | false;

const SHAPE = {
  credentials: false as const,
  methods: ["GET", "POST", "OPTIONS"],
  allowedHeaders: ["content-type", "authorization", "x-request-id", "accept"],
  exposedHeaders: ["x-request-id", "etag"],
};

/**
 * The CORS policy for a list of allowed origins (KCK_CORS_ORIGINS). No list: no CORS headers
 * at all, so browsers refuse other origins' reads. `*`: any origin, as `*` (never the caller's
 * origin reflected, and never with credentials: KCK's tokens travel in the Authorization header,
 * not in cookies). Otherwise only the origins listed, each answered with itself.
 */
export function corsOptions(origins: readonly string[] | undefined): CorsDecision | false {
  if (origins === undefined || origins.length === 0) return false;
  if (origins.includes("*")) return () => ({ origin: "*", ...SHAPE });
  const allowed = new Set(origins);
  return (request) => {
    const origin = request.headers.get("origin");
    // Another origin gets no CORS headers (not "null", which sandboxed pages send as theirs).
    return origin !== null && allowed.has(origin) ? { origin, ...SHAPE } : false;
  };
}
