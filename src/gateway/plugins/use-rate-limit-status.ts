import type { Plugin } from "graphql-yoga";

const isRateLimited = (error: { extensions?: Record<string, unknown> }) =>
  error.extensions?.["code"] === "RATE_LIMITED";

/**
 * Answers HTTP 429 (with Retry-After) when a request was refused whole by the new-key limit:
 * every error is RATE_LIMITED and no field has data. A request that got part of its data keeps
 * 200, its refused fields carrying the coded error.
 */
export function useRateLimitStatus(): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const errors = result.errors ?? [];
          if (errors.length === 0 || !errors.every(isRateLimited)) return;
          const data = result.data ?? {};
          if (Object.values(data).some((value) => value !== null)) return;
          setResult({
            ...result,
            extensions: {
              ...result.extensions,
              http: { status: 429, headers: { "retry-after": "1" } },
            },
          });
        },
      };
    },
  };
}
