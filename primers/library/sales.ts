import { defineInput, defineObject, definePrimer, KckError, param } from "kck";

interface Sale {
  bookId: number;
  quantity: number;
}

/** One new sale: the delta that augments the sales totals. */
export const SaleInput = defineInput<Sale>(
  "SaleInput",
  (t) => ({
    bookId: t.int({ required: true }),
    quantity: t.int({ required: true, description: "Copies sold; at least 1." }),
  }),
  { description: "One sale of one book, at its current price." },
);

interface Totals {
  sales: number;
  copies: number;
  revenueCents: number;
}

interface BookTotals extends Totals {
  bookId: number;
  authorId: number;
}

interface AuthorTotals extends Totals {
  authorId: number;
}

interface SalesTotals {
  books: BookTotals[];
  authors: AuthorTotals[];
}

const BookTotalsType = defineObject<BookTotals>("BookTotals", (t) => ({
  bookId: t.exposeInt("bookId"),
  authorId: t.exposeInt("authorId"),
  sales: t.exposeInt("sales"),
  copies: t.exposeInt("copies"),
  revenueCents: t.exposeInt("revenueCents", {
    description: "Each sale at the price valid when it was made.",
  }),
}));

const AuthorTotalsType = defineObject<AuthorTotals>("AuthorTotals", (t) => ({
  authorId: t.exposeInt("authorId"),
  sales: t.exposeInt("sales"),
  copies: t.exposeInt("copies"),
  revenueCents: t.exposeInt("revenueCents", {
    description: "Each sale at the price valid when it was made.",
  }),
}));

const SalesTotalsType = defineObject<SalesTotals>("SalesTotals", (t) => ({
  books: t.field({ type: [BookTotalsType], resolve: (s) => s.books }),
  authors: t.field({ type: [AuthorTotalsType], resolve: (s) => s.authors }),
}));

// Values are built field by field in one order, by compute and reducers alike, so that equal
// values serialise (and hash) alike.
const bookTotals = (b: BookTotals): BookTotals => ({
  bookId: b.bookId,
  authorId: b.authorId,
  sales: b.sales,
  copies: b.copies,
  revenueCents: b.revenueCents,
});

/** The totals of every book and, summed from them, of every author. */
const totalsOf = (books: readonly BookTotals[]): SalesTotals => {
  const authors = new Map<number, AuthorTotals>();
  for (const b of books) {
    const a = authors.get(b.authorId) ?? {
      authorId: b.authorId,
      sales: 0,
      copies: 0,
      revenueCents: 0,
    };
    a.sales += b.sales;
    a.copies += b.copies;
    a.revenueCents += b.revenueCents;
    authors.set(b.authorId, a);
  }
  return {
    books: books.map(bookTotals),
    authors: [...authors.values()].sort((x, y) => x.authorId - y.authorId),
  };
};

/**
 * Running sales totals of every book and author: a report over every sale, each priced at
 * the price valid when it was made (slow to recompute), augmented by each new sale in a few
 * milliseconds. The reducer records the sale in the same transaction, so a recompute agrees.
 */
export const salesTotals = definePrimer({
  name: "salesTotals",
  description: "Sales, copies and revenue of every book and author, updated by each new sale.",
  params: {},
  type: SalesTotalsType,
  async compute(_params, ctx) {
    const books = await ctx.sql<BookTotals>(
      `select b.id as "bookId", b.author_id as "authorId", count(s.id)::int as sales,
              coalesce(sum(s.quantity), 0)::int as copies,
              coalesce(sum(s.quantity * p.price_cents), 0)::int as "revenueCents"
       from books b
       left join sales s on s.book_id = b.id
       left join lateral (
         select price_cents from prices
         where book_id = s.book_id and valid_from <= s.sold_at
         order by valid_from desc limit 1
       ) as p on true
       group by b.id order by b.id`,
    );
    return totalsOf(books);
  },
  augment: {
    delta: SaleInput,
    async reduce(current, sale, ctx) {
      if (sale.quantity < 1) {
        throw new KckError(
          "BAD_PARAM",
          `A sale needs a quantity of at least 1; got ${sale.quantity}.`,
        );
      }
      if (!current.books.some((b) => b.bookId === sale.bookId)) {
        throw new KckError("BAD_PARAM", `There is no book ${sale.bookId}.`);
      }
      // Recorded and priced in one statement, at the price valid at the sale's own time.
      const [row] = await ctx.sql<{ price: number | null }>(
        `insert into sales (book_id, quantity) values ($1, $2)
         returning (select price_cents from prices
           where prices.book_id = sales.book_id and valid_from <= sales.sold_at
           order by valid_from desc limit 1) as price`,
        [sale.bookId, sale.quantity],
      );
      const revenue = sale.quantity * (row?.price ?? 0);
      return totalsOf(
        current.books.map((b) =>
          b.bookId === sale.bookId
            ? {
                ...b,
                sales: b.sales + 1,
                copies: b.copies + sale.quantity,
                revenueCents: b.revenueCents + revenue,
              }
            : b,
        ),
      );
    },
  },
});

interface AuthorSales extends AuthorTotals {
  books: BookTotals[];
}

const AuthorSalesType = defineObject<AuthorSales>("AuthorSales", (t) => ({
  authorId: t.exposeInt("authorId"),
  sales: t.exposeInt("sales"),
  copies: t.exposeInt("copies"),
  revenueCents: t.exposeInt("revenueCents", {
    description: "Each sale at the price valid when it was made.",
  }),
  books: t.field({ type: [BookTotalsType], resolve: (s) => s.books }),
}));

/** One author's slice of the store's totals. */
const sliceOf = (totals: SalesTotals, authorId: number): AuthorSales => {
  const author = totals.authors.find((a) => a.authorId === authorId);
  return {
    authorId,
    sales: author?.sales ?? 0,
    copies: author?.copies ?? 0,
    revenueCents: author?.revenueCents ?? 0,
    books: totals.books.filter((b) => b.authorId === authorId).map(bookTotals),
  };
};

/** One author's sales, per book: follows the store's totals sale by sale. */
export const authorSales = definePrimer({
  name: "authorSales",
  description: "Sales, copies and revenue of one author's books.",
  params: { authorId: param.int() },
  type: AuthorSalesType,
  compute: async ({ authorId }, ctx) => sliceOf(await ctx.get(salesTotals, {}), authorId),
  augmentFrom: [
    {
      primer: salesTotals,
      // Only the author of the book sold changes.
      params: (_params, { delta, value }) => {
        const book = value.books.find((b) => b.bookId === delta?.bookId);
        return book ? [{ authorId: book.authorId }] : [];
      },
      reduce: (current, { value }) => sliceOf(value, current.authorId),
    },
  ],
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

const ranking = (totals: SalesTotals): Ranked[] =>
  [...totals.authors]
    .sort((a, b) => b.revenueCents - a.revenueCents || a.authorId - b.authorId)
    .map((a, i) => ({
      rank: i + 1,
      authorId: a.authorId,
      copies: a.copies,
      revenueCents: a.revenueCents,
    }));

/** Every author ranked by revenue: re-ranked with each sale instead of recomputed. */
export const salesRanking = definePrimer({
  name: "salesRanking",
  description: "Every author ranked by revenue, best first.",
  params: {},
  type: [RankedType],
  compute: async (_params, ctx) => ranking(await ctx.get(salesTotals, {})),
  augmentFrom: [
    { primer: salesTotals, params: () => ({}), reduce: (_current, { value }) => ranking(value) },
  ],
});
