import { defineInput, defineObject, definePrimer, KckError, param } from "kck";

interface Sale {
  bookId: number;
  quantity: number;
  amountCents: number;
}

/** One new sale: the delta that augments an author's sales. */
export const SaleInput = defineInput<Sale>(
  "SaleInput",
  (t) => ({
    bookId: t.int({ required: true }),
    quantity: t.int({ required: true, description: "Copies sold; at least 1." }),
    amountCents: t.int({ required: true, description: "What the buyer paid, in cents." }),
  }),
  { description: "One sale of one book." },
);

interface BookSales {
  bookId: number;
  title: string;
  sales: number;
  copies: number;
  revenueCents: number;
}

interface AuthorSales {
  authorId: number;
  sales: number;
  copies: number;
  revenueCents: number;
  books: BookSales[];
}

const BookSalesType = defineObject<BookSales>("BookSales", (t) => ({
  bookId: t.exposeInt("bookId"),
  title: t.exposeString("title"),
  sales: t.exposeInt("sales"),
  copies: t.exposeInt("copies"),
  revenueCents: t.exposeInt("revenueCents"),
}));

const AuthorSalesType = defineObject<AuthorSales>("AuthorSales", (t) => ({
  authorId: t.exposeInt("authorId"),
  sales: t.exposeInt("sales"),
  copies: t.exposeInt("copies"),
  revenueCents: t.exposeInt("revenueCents"),
  books: t.field({ type: [BookSalesType], resolve: (s) => s.books }),
}));

// Values are built field by field in one order, by compute and reducers alike, so that equal
// values serialise (and hash) alike.
const book = (b: BookSales): BookSales => ({
  bookId: b.bookId,
  title: b.title,
  sales: b.sales,
  copies: b.copies,
  revenueCents: b.revenueCents,
});

const totalsOf = (authorId: number, books: BookSales[]): AuthorSales => ({
  authorId,
  sales: books.reduce((n, b) => n + b.sales, 0),
  copies: books.reduce((n, b) => n + b.copies, 0),
  revenueCents: books.reduce((n, b) => n + b.revenueCents, 0),
  books: books.map(book),
});

/**
 * Running sales totals of one author, per book: a report over every sale (slow to
 * recompute), augmented by each new sale in a few milliseconds. The reducer also records the
 * sale, in the same transaction, so a recompute agrees with the augmented value.
 */
export const authorSales = definePrimer({
  name: "authorSales",
  description: "Sales, copies and revenue of one author's books, updated by each new sale.",
  params: { authorId: param.int() },
  type: AuthorSalesType,
  async compute({ authorId }, ctx) {
    const books = await ctx.sql<BookSales>(
      `select b.id as "bookId", b.title, count(s.id)::int as sales,
              coalesce(sum(s.quantity), 0)::int as copies,
              coalesce(sum(s.amount_cents), 0)::int as "revenueCents"
       from books b left join sales s on s.book_id = b.id
       where b.author_id = $1 group by b.id order by b.id`,
      [authorId],
    );
    return totalsOf(authorId, books);
  },
  augment: {
    delta: SaleInput,
    async reduce(current, sale, ctx) {
      if (sale.quantity < 1 || sale.amountCents < 0) {
        throw new KckError(
          "BAD_PARAM",
          `A sale needs a quantity of at least 1 and an amount of at least 0; got ${sale.quantity} and ${sale.amountCents}.`,
        );
      }
      if (!current.books.some((b) => b.bookId === sale.bookId)) {
        throw new KckError(
          "BAD_PARAM",
          `Book ${sale.bookId} is not by author ${current.authorId}; augment its own author's sales.`,
        );
      }
      await ctx.sql("insert into sales (book_id, quantity, amount_cents) values ($1, $2, $3)", [
        sale.bookId,
        sale.quantity,
        sale.amountCents,
      ]);
      return totalsOf(
        current.authorId,
        current.books.map((b) =>
          b.bookId === sale.bookId
            ? {
                ...b,
                sales: b.sales + 1,
                copies: b.copies + sale.quantity,
                revenueCents: b.revenueCents + sale.amountCents,
              }
            : b,
        ),
      );
    },
  },
});

interface Ranked {
  rank: number;
  authorId: number;
  copies: number;
  revenueCents: number;
}

const RankedType = defineObject<Ranked>("RankedAuthor", (t) => ({
  rank: t.exposeInt("rank"),
  authorId: t.exposeInt("authorId"),
  copies: t.exposeInt("copies"),
  revenueCents: t.exposeInt("revenueCents"),
}));

const ranking = (rows: readonly Omit<Ranked, "rank">[]): Ranked[] =>
  [...rows]
    .sort((a, b) => b.revenueCents - a.revenueCents || a.authorId - b.authorId)
    .map((r, i) => ({
      rank: i + 1,
      authorId: r.authorId,
      copies: r.copies,
      revenueCents: r.revenueCents,
    }));

/**
 * Every author ranked by revenue, built from each author's sales: a chain that stays
 * incremental, since a new sale re-ranks one author instead of recomputing all of them.
 */
export const salesRanking = definePrimer({
  name: "salesRanking",
  description: "Every author ranked by revenue, best first.",
  params: {},
  type: [RankedType],
  async compute(_params, ctx) {
    const authors = await ctx.sql<{ id: number }>("select id from authors order by id");
    const totals = await Promise.all(
      authors.map(({ id }) => ctx.get(authorSales, { authorId: id })),
    );
    return ranking(totals);
  },
  augmentFrom: [
    {
      primer: authorSales,
      params: () => ({}),
      reduce: (current, { value }) =>
        ranking([...current.filter((r) => r.authorId !== value.authorId), value]),
    },
  ],
});
