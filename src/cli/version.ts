import { readFileSync } from 'node:fs';

/**
 * The installed package's version, read from its package.json (two levels above this file in
 * both `src/cli` and `dist/cli`), so `understudy --version` and the package can never disagree.
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
