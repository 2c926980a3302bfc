import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The repository must stand on its own: no path to material kept beside it, no section citations of
 * documents outside it, no issue numbers in place of facts. `scripts/check-self-contained.mjs` does
 * the scanning (it also runs in `npm run lint`); these tests run it as a user would.
 *
 * The planted findings below are assembled from pieces, so this file does not report itself.
 */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(PROJECT_ROOT, 'scripts/check-self-contained.mjs');
const PARENT = '..';
const SIBLING_SHARED = `${PARENT}/${'shared'}`;
const SECTION = '\u00a7';
const HASH = '#';
const ISSUE = 'issue';

function check(root?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, root === undefined ? [SCRIPT] : [SCRIPT, root], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `file:line "token"` of every finding the script reports. */
function findings(stderr: string): string[] {
  return [...stderr.matchAll(/^ {2}(\S+?):(\d+): "([^"]*)"/gm)].map((match) => `${match[1]}:${match[2]} ${match[3]}`);
}

describe('the repository is self-contained', () => {
  it('cites nothing outside it in src, tests, bench, docs, scripts, contract and the README', () => {
    const result = check();
    expect(result.stderr, 'state the fact, or link Stytch\'s public documentation, instead').toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/no outside references/);
  });
});

describe('check-self-contained', () => {
  const root = mkdtempSync(join(tmpdir(), 'understudy-self-contained-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const write = (path: string, lines: string[]): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${lines.join('\n')}\n`);
  };

  write('src/domain/shared/errors.ts', ['export const shared = 1;']);
  write('src/domain/members/errors.ts', [
    `import { shared } from '${PARENT}/shared/errors.js';`, // 1: a folder of the repository
    `const file = resolve(ROOT, '${SIBLING_SHARED}/${'reference'}/document.yml');`, // 2: the reference material
    `// Sessions live 60 minutes (reference ${SECTION}E.2).`, // 3
    `// UUIDv7 (RFC 9562 ${SECTION}5.7), ordered by RFC 9562, ${SECTION}6.2.`, // 4: public standards
    'export const css = ":root { --ink: #1d2330; --card: #fff; --line: #333; } a { border: 1px solid #000000 }";', // 5: colours
    "export const escaped = '&#39;&#60;script&#62;';", // 6: HTML entities
    'export const url = "https://stytch.com/docs/api-reference/b2b/api/errors/400#bad_request";', // 7: a fragment
  ]);
  write('docs/notes.md', [
    `Targets of issue ${HASH}6, read against the table.`, // 1
    `Comes with sessions (${ISSUE} 3).`, // 2
    `See issues ${HASH}2 and ${HASH}11.`, // 3
    `Fixed in ${HASH}12; Issue ${HASH}4's follow-up.`, // 4
    `Known (\`${SIBLING_SHARED}/notes.md\`).`, // 5
    'A project issues `-live-` ids; the first issue is the slug.', // 6: the verb, no number
  ]);
  write('tests/support/openapi.ts', [`export const FILE = resolve(PROJECT_ROOT, '${SIBLING_SHARED}/document.yml');`]);
  write('bench/results/run.md', [`issue ${HASH}9 in generated output`]);
  write('README.md', [`Reference ${SECTION}H.8 says 200.`]);

  it('reports each kind of outside reference once, on its line', () => {
    const result = check(root);
    expect(result.status).toBe(1);
    expect(findings(result.stderr).sort()).toEqual(
      [
        `src/domain/members/errors.ts:2 shared/${'reference'}`,
        `tests/support/openapi.ts:1 ${SIBLING_SHARED}`,
        `src/domain/members/errors.ts:3 ${SECTION}E.2`,
        `docs/notes.md:1 issue ${HASH}6`,
        `docs/notes.md:2 ${ISSUE} 3`,
        `docs/notes.md:3 issues ${HASH}2`,
        `docs/notes.md:3 ${HASH}11`,
        `docs/notes.md:4 ${HASH}12`,
        `docs/notes.md:4 Issue ${HASH}4`,
        `docs/notes.md:5 ${SIBLING_SHARED}`,
        `README.md:1 ${SECTION}H.8`,
      ].sort(),
    );
  });

  it('passes once the references are replaced by facts', () => {
    write('src/domain/members/errors.ts', [
      `import { shared } from '${PARENT}/shared/errors.js';`,
      "const file = resolve(ROOT, 'contract/stytch-b2b-openapi.yml');",
      '// Sessions live 60 minutes unless the caller asks for another duration.',
    ]);
    write('docs/notes.md', ['The performance targets, read against the table.']);
    write('tests/support/openapi.ts', ["export const FILE = resolve(PROJECT_ROOT, 'contract/stytch-b2b-openapi.yml');"]);
    write('README.md', ['Stytch documents 200 for this call.']);
    const result = check(root);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
