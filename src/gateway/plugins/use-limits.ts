import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { Plugin } from "graphql-yoga";

/** How large and how deep an operation may be. Every limit can be set from the environment. */
export interface Limits {
  /** Deepest selection nesting (KCK_MAX_DEPTH). @default 12 */
  depth: number;
  /** Aliases in one operation (KCK_MAX_ALIASES); 100-field operations are a supported use. @default 200 */
  aliases: number;
  /** graphql-armor cost of one operation (KCK_MAX_COST). @default 20000 */
  cost: number;
  /** Tokens in one document (KCK_MAX_TOKENS). @default 10000 */
  tokens: number;
  /** Directives in one operation (KCK_MAX_DIRECTIVES). @default 50 */
  directives: number;
  /** Bytes in one request body (KCK_MAX_BODY_BYTES). @default 1000000 */
  bodyBytes: number;
  /** Operations in one batched request (KCK_MAX_BATCH). @default 10 */
  batch: number;
}

/** The limits `npm start` applies unless told otherwise. */
export const DEFAULT_LIMITS: Limits = {
  depth: 12,
  aliases: 200,
  cost: 20_000,
  tokens: 10_000,
  directives: 50,
  bodyBytes: 1_000_000,
  batch: 10,
};

/**
 * The operation limits, as graphql-armor's plugins (tokens, depth, aliases, directives, cost),
 * added in that order right after this one; each rejects an operation before it runs, with a
 * message that says which limit it passed.
 */
export function useLimits(limits: Limits): Plugin {
  const plugins = [
    maxTokensPlugin({ n: limits.tokens }),
    maxDepthPlugin({ n: limits.depth, flattenFragments: true }),
    maxAliasesPlugin({ n: limits.aliases }),
    maxDirectivesPlugin({ n: limits.directives }),
    costLimitPlugin({ maxCost: limits.cost }),
  ] as Plugin[];
  return {
    onPluginInit({ addPlugin }) {
      for (const plugin of plugins) addPlugin(plugin);
    },
  };
}
