import { resolve } from 'node:path';
import type { StoreLocation } from './open-store.js';

/** Query parameters of a PostgreSQL URL that carry a secret. */
const SECRET_PARAMETERS = ['password', 'sslpassword'];

/**
 * A PostgreSQL URL fit to print: the password (in the authority or as a `password` parameter)
 * removed, everything else kept, so the printed URL still names the same database. A URL that
 * cannot be parsed is not printed at all.
 */
export function postgresUrlWithoutPassword(databaseUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return undefined;
  }
  url.password = '';
  for (const name of SECRET_PARAMETERS) url.searchParams.delete(name);
  return url.toString();
}

/** The SQLite file's absolute path, or the PostgreSQL URL without its password. */
export function databaseLocationText(location: StoreLocation): string {
  if (location.databaseUrl === undefined) return resolve(location.sqliteFile);
  return postgresUrlWithoutPassword(location.databaseUrl) ?? '(UNDERSTUDY_DATABASE_URL)';
}

/** "the SQLite database /abs/understudy.db" or "the PostgreSQL database postgres://user@host/db", never with a password. */
export function describeDatabase(location: StoreLocation): string {
  return `the ${location.databaseUrl === undefined ? 'SQLite' : 'PostgreSQL'} database ${databaseLocationText(location)}`;
}
