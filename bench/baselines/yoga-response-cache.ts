import { useResponseCache } from "@graphql-yoga/plugin-response-cache";
import type { RunningTarget } from "../lib/target.ts";
import { startYoga } from "./yoga-constant.ts";

/** graphql-yoga with `@graphql-yoga/plugin-response-cache`: one shared, in-memory cache. */
export function startYogaResponseCache(): Promise<RunningTarget> {
  return startYoga([useResponseCache({ session: () => null, ttl: 3_600_000 })]);
}
