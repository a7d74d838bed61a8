import { createSchema, createYoga, type Plugin } from "graphql-yoga";
import { listen } from "../lib/http-server.ts";
import type { RunningTarget } from "../lib/target.ts";
import { ITEM_SDL, type Item, makeItem } from "../lib/workload.ts";

/**
 * graphql-yoga with the bench's schema whose `item` field returns a constant: the item of that
 * id, built once and kept, so that it answers every bench query with the same bytes as KCK.
 */
export function startYogaConstant(): Promise<RunningTarget> {
  return startYoga([]);
}

/** The same yoga server with extra plugins (the response-cache baseline adds its cache). */
export async function startYoga(plugins: Plugin[]): Promise<RunningTarget> {
  const constants = new Map<number, Item>();
  const item = (_root: unknown, { id }: { id: number }): Item => {
    let constant = constants.get(id);
    if (constant === undefined) {
      constant = makeItem(id);
      constants.set(id, constant);
    }
    return constant;
  };
  const yoga = createYoga({
    schema: createSchema({ typeDefs: ITEM_SDL, resolvers: { Query: { item } } }),
    logging: false,
    landingPage: false,
    plugins,
  });
  return listen((req, res) => void yoga(req, res));
}
