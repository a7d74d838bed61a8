import {
  conditionalFetch,
  type Duration,
  defineObject,
  definePrimer,
  KckError,
  type ModuleSetup,
  param,
} from "kck";

interface FeedItem {
  title: string;
  author: string;
  rank: number;
}

interface Feed {
  name: string;
  url: string;
  /** The validators of the answer this value came from, for the next conditional request. */
  etag: string | null;
  lastModified: string | null;
  items: FeedItem[];
}

const FeedItemType = defineObject<FeedItem>("FeedItem", (t) => ({
  title: t.exposeString("title"),
  author: t.exposeString("author"),
  rank: t.exposeInt("rank"),
}));

const FeedType = defineObject<Feed>("Feed", (t) => ({
  name: t.exposeString("name"),
  url: t.exposeString("url"),
  etag: t.exposeString("etag", { nullable: true }),
  lastModified: t.exposeString("lastModified", { nullable: true }),
  items: t.field({ type: [FeedItemType], resolve: (feed) => feed.items }),
}));

/**
 * Registered remote feeds. A feed is imported once it is registered here, e.g.
 * `insert into feeds (name, url) values ('bestsellers', 'https://example.org/list.json')`:
 * nothing is fetched from the network until someone registers a URL.
 */
export const setup: ModuleSetup = async (db) => {
  await db.query(`create table if not exists feeds (
    name text primary key, url text not null check (url ~ '^https?://'))`);
};

function itemsOf(url: string, body: unknown): FeedItem[] {
  const list = Array.isArray(body) ? body : (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(list)) {
    throw new KckError("COMPUTE_FAILED", `${url} answered JSON without an "items" list.`);
  }
  return list.map((item: Partial<FeedItem>, i) => ({
    title: String(item.title ?? ""),
    author: String(item.author ?? ""),
    rank: Number.isInteger(item.rank) ? (item.rank as number) : i + 1,
  }));
}

/** Options for {@link feedPrimer}. */
export interface FeedOptions {
  /** How often every registered feed is imported again. @default "15m" */
  every?: Duration;
  /** How long one request may take. @default 10000 */
  timeoutMs?: number;
}

/**
 * A primer that imports a registered feed (a JSON list of books) over HTTP on a schedule:
 * every feed in the `feeds` table (the schedule's domain), at once when a feed is registered
 * or its URL changes (the table is a source), with a timeout, retried with backoff by the job
 * queue when the remote fails (the last good list is served meanwhile), and with conditional
 * requests: a 304 "not modified" moves freshness and bumps no version.
 */
export function feedPrimer(options: FeedOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return definePrimer({
    name: "feed",
    description: "A list of books imported over HTTP from a feed registered in the feeds table.",
    params: { name: param.string() },
    type: FeedType,
    schedule: {
      every: options.every ?? "15m",
      domain: (ctx) => ctx.sql<{ name: string }>("select name from feeds order by name"),
    },
    sources: [{ table: "feeds", params: { name: "name" } }],
    maxAttempts: 8,
    async compute({ name }, ctx) {
      const [feed] = await ctx.sql<{ url: string }>("select url from feeds where name = $1", [
        name,
      ]);
      if (feed === undefined) {
        throw new KckError(
          "COMPUTE_FAILED",
          `There is no feed named "${name}"; register it: insert into feeds (name, url) values (...).`,
        );
      }
      const previous = (await ctx.previous())?.value as Feed | null | undefined;
      const answer = await conditionalFetch(feed.url, {
        // Validators only mean something for the URL they came from.
        previous: previous?.url === feed.url ? previous : undefined,
        timeoutMs,
        signal: ctx.signal,
      });
      if (answer.notModified) return ctx.unchanged();
      const items = itemsOf(feed.url, await answer.response.json());
      return { name, url: feed.url, etag: answer.etag, lastModified: answer.lastModified, items };
    },
  });
}

/** The demo's feed importer: every 15 minutes. */
export const feed = feedPrimer();
