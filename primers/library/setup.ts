import type { ModuleSetup, Queryable } from "kck";

const FIRST = [
  "Ada",
  "Jorge",
  "Chimamanda",
  "Haruki",
  "Olga",
  "Italo",
  "Toni",
  "Gabriel",
  "Wisława",
  "Naguib",
  "Ursula",
  "Orhan",
];
const LAST = [
  "Lindqvist",
  "Okafor",
  "Moreau",
  "Tanaka",
  "Silva",
  "Novak",
  "Rahman",
  "Costa",
  "Berg",
  "Ferrante",
];
const COUNTRIES = ["AR", "NG", "FR", "JP", "PL", "IT", "US", "CO", "EG", "TR", "SE", "BR"];
const GENRES = ["novel", "poetry", "essay", "history", "science", "children"];
const WORDS = [
  "River",
  "Night",
  "Garden",
  "Silence",
  "Empire",
  "Letters",
  "Harbor",
  "Winter",
  "Glass",
  "Orchard",
  "Mirror",
  "Road",
];

/** How many authors the demo seeds. */
export const AUTHORS = 40;

/** How many sales the demo seeds. */
export const SALES = 300_000;

/**
 * Creates the demo's source tables (authors, books, prices, sales) and seeds them once,
 * deterministically, so every fresh start serves the same library.
 */
export const setup: ModuleSetup = (db) => seedLibrary(db);

/** The demo's setup with a chosen number of sales (tests seed fewer). */
export async function seedLibrary(db: Queryable, options: { sales?: number } = {}): Promise<void> {
  await seedBooks(db);
  await seedSales(db, options.sales ?? SALES);
}

/**
 * Prices and sales. A book's price changes every month, and a sale is worth its quantity at
 * the price valid when it was made: so a sales report looks up one price per sale, which is
 * what makes recomputing it slow, and augmenting it with one new sale worthwhile.
 */
async function seedSales(db: Queryable, count: number): Promise<void> {
  await db.query(`
    create table if not exists prices (
      book_id integer not null references books (id), valid_from timestamptz not null,
      price_cents integer not null, primary key (book_id, valid_from));
    create table if not exists sales (
      id bigserial primary key, book_id integer not null references books (id),
      quantity integer not null, sold_at timestamptz not null default now())`);
  const { rows } = await db.query<{ any: boolean }>("select exists (select 1 from prices) as any");
  if (rows[0]?.any) return;
  await db.query(
    `insert into prices (book_id, valid_from, price_cents)
     select b.id, timestamptz '2020-01-01' + m * interval '1 month', 900 + (b.id * 37 + m * 53) % 2000
     from books b, generate_series(0, 95) as m`,
  );
  await db.query(
    `insert into sales (book_id, quantity, sold_at)
     select b.ids[1 + (g * 7919 % cardinality(b.ids))::int], 1 + g % 3,
            timestamptz '2020-01-01' + g * interval '13 minutes'
     from (select array_agg(id order by id) as ids from books) as b,
          generate_series(1, $1::bigint) as g`,
    [count],
  );
  await db.query("analyze prices; analyze sales");
}

async function seedBooks(db: Queryable): Promise<void> {
  await db.query(`
    create table if not exists authors (
      id integer primary key, name text not null, country text not null, born integer not null);
    create table if not exists books (
      id serial primary key, author_id integer not null references authors (id),
      title text not null, year integer not null, genre text not null, pages integer not null);
    create index if not exists books_author_idx on books (author_id);
    create index if not exists books_genre_idx on books (genre)`);
  const { rows } = await db.query<{ n: number }>("select count(*)::int as n from authors");
  if ((rows[0]?.n ?? 0) > 0) return;
  const authors: unknown[][] = [];
  const books: unknown[][] = [];
  for (let id = 1; id <= AUTHORS; id++) {
    authors.push([
      id,
      `${FIRST[id % FIRST.length]} ${LAST[(id * 7) % LAST.length]}`,
      COUNTRIES[id % COUNTRIES.length],
      1900 + ((id * 37) % 90),
    ]);
    for (let n = 0; n < 3 + (id % 8); n++) {
      const title = `The ${WORDS[(id + n) % WORDS.length]} of ${WORDS[(id * 3 + n * 5) % WORDS.length]}${n > 5 ? ` ${n}` : ""}`;
      books.push([
        id,
        title,
        1950 + ((id * 13 + n * 7) % 70),
        GENRES[(id + n * 2) % GENRES.length],
        120 + ((id * 31 + n * 17) % 600),
      ]);
    }
  }
  await db.query(
    "insert into authors (id, name, country, born) select * from unnest($1::int[], $2::text[], $3::text[], $4::int[])",
    [0, 1, 2, 3].map((i) => authors.map((a) => a[i])),
  );
  await db.query(
    "insert into books (author_id, title, year, genre, pages) select * from unnest($1::int[], $2::text[], $3::int[], $4::text[], $5::int[])",
    [0, 1, 2, 3, 4].map((i) => books.map((b) => b[i])),
  );
}
