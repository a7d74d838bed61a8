import { defineObject, definePrimer, param } from "kck";

const Title = defineObject<{ title: string }>("Title", (t) => ({ title: t.exposeString("title") }));

/** The titles of one author: the seed's own example, served at `titleList/42`. */
export const titleList = definePrimer({
  name: "titleList",
  description: "The titles of one author, alphabetically.",
  params: { authorId: param.int() },
  type: [Title],
  fresh: "10m",
  // Editing, adding, moving or deleting a book refreshes its author's list (and, through the
  // dependency edges, authorProfile).
  sources: [{ table: "books", params: { authorId: "author_id" } }],
  compute: ({ authorId }, ctx) =>
    ctx.sql<{ title: string }>("select title from books where author_id = $1 order by title", [
      authorId,
    ]),
});
