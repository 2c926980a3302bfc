/**
 * The few SQL texts every authentication runs. On PostgreSQL each is kept prepared on every pooled
 * connection under a name (src/storage/postgres/postgres-database.ts): the server then parses and
 * plans it once per connection, not on every call, and planning the session join cost ten times
 * more than running it. Mark only fixed texts that name their columns (never `table.*`): a
 * prepared statement fails if a later migration changes the shape of its result.
 *
 * A hot statement answers with positional rows: each row is an array of its column values in the
 * order the SELECT names them (better-sqlite3's raw mode, node-postgres's `rowMode: 'array'`), not
 * an object. Building a 45-property object per row in the drivers cost more than the SQLite query
 * itself; the store that marks a text reads its rows by position.
 */
const names = new Map<string, string>();

/** Marks `sql` as hot and returns it unchanged. */
export function markHotStatement(sql: string): string {
  if (!names.has(sql)) names.set(sql, `understudy_hot_${names.size + 1}`);
  return sql;
}

/** The statement name a hot SQL text is prepared under, or undefined for every other text. */
export function hotStatementName(sql: string): string | undefined {
  return names.get(sql);
}
