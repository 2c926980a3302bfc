import { sql, type Kysely, type Selectable } from 'kysely';
import { REDIRECT_URL_TYPES, type RedirectUrlType } from '../../domain/redirect-urls/redirect-urls.js';
import type { RedirectUrlTypeSetting } from '../../domain/redirect-urls/redirect-url.js';
import type { RedirectUrlsStore, StoredRedirectUrl } from '../../domain/redirect-urls/redirect-urls-store.js';
import type { Database, RedirectUrlRow } from '../database.js';
import type { Dialect } from '../store.js';
import { translateUniqueViolation } from './unique-violation.js';

export class RedirectUrlsSqlStore implements RedirectUrlsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async lockForEdit(): Promise<void> {
    if (this.#dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('understudy.redirect_urls'))`.execute(this.#db);
  }

  async listRedirectUrls(): Promise<StoredRedirectUrl[]> {
    const rows = await this.#db.selectFrom('redirect_urls').selectAll().orderBy('created_at').orderBy('url').execute();
    return grouped(rows);
  }

  async findRedirectUrl(url: string): Promise<StoredRedirectUrl | undefined> {
    const rows = await this.#db.selectFrom('redirect_urls').selectAll().where('url', '=', url).execute();
    return grouped(rows)[0];
  }

  async saveRedirectUrl(url: string, types: readonly RedirectUrlTypeSetting[], at: string): Promise<void> {
    const existing = await this.#db.selectFrom('redirect_urls').select('created_at').where('url', '=', url).orderBy('created_at').executeTakeFirst();
    const createdAt = existing?.created_at ?? at;
    await this.#db.deleteFrom('redirect_urls').where('url', '=', url).execute();
    const defaults = types.filter((setting) => setting.isDefault).map((setting) => setting.type);
    if (defaults.length > 0) {
      await this.#db.updateTable('redirect_urls').set({ is_default: 0, updated_at: at }).where('type', 'in', defaults).where('is_default', '=', 1).execute();
    }
    await translateUniqueViolation(['type', 'url'], () =>
      this.#db
        .insertInto('redirect_urls')
        .values(types.map((setting) => ({ url, type: setting.type, is_default: setting.isDefault ? 1 : 0, created_at: createdAt, updated_at: at })))
        .execute(),
    );
  }

  async deleteRedirectUrl(url: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('redirect_urls').where('url', '=', url).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

/** Rows (one per URL and type) to URLs in the rows' order, each with its types. */
function grouped(rows: readonly Selectable<RedirectUrlRow>[]): StoredRedirectUrl[] {
  const byUrl = new Map<string, { createdAt: string; updatedAt: string; types: RedirectUrlTypeSetting[] }>();
  for (const row of rows) {
    const entry = byUrl.get(row.url) ?? { createdAt: row.created_at, updatedAt: row.updated_at, types: [] };
    entry.types.push({ type: row.type as RedirectUrlType, isDefault: Number(row.is_default) === 1 });
    if (row.updated_at > entry.updatedAt) entry.updatedAt = row.updated_at;
    byUrl.set(row.url, entry);
  }
  return [...byUrl].map(([url, entry]) => ({ url, types: entry.types.sort((a, b) => REDIRECT_URL_TYPES.indexOf(a.type) - REDIRECT_URL_TYPES.indexOf(b.type)), createdAt: entry.createdAt, updatedAt: entry.updatedAt }));
}
