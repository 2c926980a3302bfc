import { readFileSync } from 'node:fs';
import { CompiledQuery } from 'kysely';
import { openSqlite } from '../src/storage/sqlite/sqlite-database.js';
import { SessionsSqlStore } from '../src/storage/sql/sessions-sql-store.js';
const fixtures = JSON.parse(readFileSync('/tmp/microdb/fixtures.json', 'utf8'));
const ids = fixtures.sessionTokens.map((t: string) => t.slice(0, 12));
const db = openSqlite('/tmp/microdb/understudy.db');
const store = new SessionsSqlStore(db);
async function time(label: string, fn: (id: string) => Promise<unknown> | unknown, n = 50000) {
  for (let i = 0; i < 5000; i++) await fn(ids[i % ids.length]);
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn(ids[i % ids.length]);
  console.log(label, ((performance.now() - t) * 1000 / n).toFixed(1), 'µs/op');
}
await time('store.findSessionByTokenLookupId', (id) => store.findSessionByTokenLookupId(id));
// raw
const sql = (db.selectFrom('sessions').innerJoin('members', 'members.member_id', 'sessions.member_id').innerJoin('organizations', 'organizations.organization_id', 'sessions.organization_id').selectAll().where('sessions.token_lookup_id', '=', 'x').compile()).sql;
await time('kysely executeQuery raw (selectAll join)', (id) => db.executeQuery(CompiledQuery.raw(sql, [id])));
const Database = (await import('better-sqlite3')).default;
const raw = new Database('/tmp/microdb/understudy.db');
const stmt = raw.prepare(sql);
await time('better-sqlite3 stmt.all (selectAll join)', (id) => stmt.all([id]));
const stmt2 = raw.prepare('select * from sessions where token_lookup_id = ?');
await time('better-sqlite3 sessions only', (id) => stmt2.all([id]));
const stmt3 = raw.prepare('select member_session_id from sessions where token_lookup_id = ?');
await time('better-sqlite3 one column', (id) => stmt3.all([id]));
await time('stmt.get', (id) => stmt.get([id]));
await db.destroy();
