import { defineObject, definePrimer, KckError, param } from "kck";
import { titleList } from "./titles.ts";

interface Author {
  id: number;
  name: string;
  country: string;
  born: number;
}

const AuthorType = defineObject<Author>("Author", (t) => ({
  id: t.exposeInt("id"),
  name: t.exposeString("name"),
  country: t.exposeString("country", { description: "ISO 3166 country code." }),
  born: t.exposeInt("born"),
}));

/** One author's record. */
export const author = definePrimer({
  name: "author",
  description: "One author's record.",
  params: { authorId: param.int() },
  type: AuthorType,
  fresh: "1h",
  stale: "1d",
  sources: [{ table: "authors", params: { authorId: "id" } }],
  async compute({ authorId }, ctx) {
    const [row] = await ctx.sql<Author>(
      "select id, name, country, born from authors where id = $1",
      [authorId],
    );
    if (row === undefined)
      throw new KckError("COMPUTE_FAILED", `There is no author with id ${authorId}.`);
    return row;
  },
});

interface Profile {
  name: string;
  country: string;
  titleCount: number;
  titles: string[];
}

const ProfileType = defineObject<Profile>("AuthorProfile", (t) => ({
  name: t.exposeString("name"),
  country: t.exposeString("country"),
  titleCount: t.exposeInt("titleCount"),
  titles: t.exposeStringList("titles"),
}));

/** An author with their titles: a product built from two other products. */
export const authorProfile = definePrimer({
  name: "authorProfile",
  description: "An author with their titles, built from the author and titleList products.",
  params: { authorId: param.int() },
  type: ProfileType,
  fresh: "10m",
  async compute({ authorId }, ctx) {
    const [record, titles] = await Promise.all([
      ctx.get(author, { authorId }),
      ctx.get(titleList, { authorId }),
    ]);
    return {
      name: record.name,
      country: record.country,
      titleCount: titles.length,
      titles: titles.map((t) => t.title),
    };
  },
});
