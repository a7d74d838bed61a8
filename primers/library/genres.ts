import { defineObject, definePrimer, param } from "kck";

interface GenreStats {
  genre: string;
  books: number;
  authors: number;
  averagePages: number;
}

const GenreStatsType = defineObject<GenreStats>("GenreStats", (t) => ({
  genre: t.exposeString("genre"),
  books: t.exposeInt("books"),
  authors: t.exposeInt("authors"),
  averagePages: t.exposeFloat("averagePages"),
}));

/** Counts for one genre. */
export const genreStats = definePrimer({
  name: "genreStats",
  description: "How many books and authors one genre has, and their average length.",
  params: { genre: param.string() },
  type: GenreStatsType,
  fresh: "5m",
  stale: "1h",
  sources: [{ table: "books", params: { genre: "genre" } }],
  async compute({ genre }, ctx) {
    const [row] = await ctx.sql<{ books: number; authors: number; average_pages: number }>(
      `select count(*)::int as books, count(distinct author_id)::int as authors,
              coalesce(round(avg(pages), 1), 0)::float8 as average_pages
       from books where genre = $1`,
      [genre],
    );
    return {
      genre,
      books: row?.books ?? 0,
      authors: row?.authors ?? 0,
      averagePages: row?.average_pages ?? 0,
    };
  },
});

/** Every genre's counts: a product that reads one product per genre. */
export const catalog = definePrimer({
  name: "catalog",
  description: "Every genre's counts, largest first.",
  params: {},
  type: [GenreStatsType],
  fresh: "5m",
  // Any change to books may add or remove a genre; the genres' counts arrive as dependencies.
  sources: [{ table: "books" }],
  async compute(_params, ctx) {
    const genres = await ctx.sql<{ genre: string }>(
      "select distinct genre from books order by genre",
    );
    const stats = await Promise.all(genres.map(({ genre }) => ctx.get(genreStats, { genre })));
    return [...stats].sort((a, b) => b.books - a.books || a.genre.localeCompare(b.genre));
  },
});
