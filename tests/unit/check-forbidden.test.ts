import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `scripts/check-forbidden.mjs` keeps the layers apart (it also runs in `npm run lint`); these tests
 * run it as a user would, on src/ and on a planted tree it checks as if it were src/.
 */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(PROJECT_ROOT, 'scripts/check-forbidden.mjs');

function check(sourceDir?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, sourceDir === undefined ? [SCRIPT] : [SCRIPT, sourceDir], { encoding: 'utf8', cwd: sourceDir ?? PROJECT_ROOT });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `file:line` of every finding the script reports. */
function findings(stderr: string): string[] {
  return [...stderr.matchAll(/^ {2}(\S+?):(\d+): /gm)].map((match) => `${match[1]}:${match[2]}`);
}

describe('the source tree', () => {
  it('has no forbidden calls or imports', () => {
    const result = check();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('check-forbidden', () => {
  const root = mkdtempSync(join(tmpdir(), 'understudy-check-forbidden-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const write = (path: string, lines: string[]): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${lines.join('\n')}\n`);
  };

  it('refuses infrastructure packages and outer layers in src/domain', () => {
    write('domain/members/members-store.ts', [
      "import { sql, type Kysely } from 'kysely';", // 1
      "import type { FastifyRequest } from 'fastify';", // 2
      "import fastifyCookie from '@fastify/cookie';", // 3
      "import { createHash } from 'node:crypto';", // 4
      "import { randomInt } from 'crypto';", // 5: a built-in without node:
      "import { readFile } from 'node:fs/promises';", // 6: a built-in's subpath
      "import type { Pool } from 'pg';", // 7
      "import Database from 'better-sqlite3';", // 8
      "export type { Store } from '../../storage/store.js';", // 9
      "import { encodeMember } from '../../http/wire/members.js';", // 10
      "import { createServices } from '../../services.js';", // 11
      "const jose = await import('jose');", // 12
      '// kysely and fastify in a comment are fine, and so is this string:', // 13
      "export const text = 'import pg from \"pg\"';", // 14
      "import { isIPv4 } from 'node:net';", // 15: address parsing, no socket
    ]);
    const result = check(root);
    expect(result.status).toBe(1);
    const file = join('domain', 'members', 'members-store.ts');
    expect(findings(result.stderr)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((line) => `${file}:${line}`));
    expect(result.stderr).toContain('src/domain must not import "kysely": declare a port in src/domain and implement it in src/storage');
    expect(result.stderr).toContain('src/domain must not import "node:crypto": use (or add) a function in src/crypto');
    expect(result.stderr).toContain('must not import from src/storage');
  });

  it('lets the same packages be used outside src/domain, and src/domain use its own layers', () => {
    write('domain/members/members-store.ts', [
      "import type { Clock } from '../../platform/clock.js';",
      "import { digestSecret } from '../../crypto/secret-digest.js';",
      "import type { OperationContext } from '../common/operation-context.js';",
      "import { isIPv4 } from 'node:net';",
    ]);
    write('storage/sql/members-sql-store.ts', ["import { sql, type Kysely } from 'kysely';", "import type { MembersStore } from '../../domain/members/members-store.js';"]);
    write('http/server.ts', ["import fastify from 'fastify';"]);
    write('crypto/secret-digest.ts', ["import { hash } from 'node:crypto';"]);
    const result = check(root);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/no forbidden calls or imports/);
  });
});
