import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPERATIONS_END_MARKER, OPERATIONS_START_MARKER, renderOperationsMatrix } from '../../src/api/compatibility-matrix.js';
import { CONTRACT_OPERATIONS } from '../../src/api/generated/operations.js';
import { EXTENSION_OPERATIONS, STYTCH_OPERATIONS } from '../../src/api/operations.js';

/** docs/compatibility.md's operations section is rendered from the tables; the page cannot drift from them. */
const PAGE = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'docs/compatibility.md');

/** The text between the markers, without the newline that ends the start marker's line. */
function committedSection(): string | undefined {
  const page = readFileSync(PAGE, 'utf8');
  const start = page.indexOf(OPERATIONS_START_MARKER);
  const end = page.indexOf(OPERATIONS_END_MARKER);
  if (start === -1 || end < start) return undefined;
  return page.slice(start + OPERATIONS_START_MARKER.length + 1, end);
}

describe('the compatibility matrix in docs/compatibility.md', () => {
  it('is what the operation tables render (run `npm run compatibility` if this fails)', () => {
    const section = committedSection();
    expect(section, `docs/compatibility.md has no ${OPERATIONS_START_MARKER} … ${OPERATIONS_END_MARKER} section`).toBeDefined();
    expect(section, 'the operations section of docs/compatibility.md is out of date: run `npm run compatibility` and commit the page').toBe(renderOperationsMatrix());
  });

  it('lists every SDK method of the contract once, with its status, and every extension', () => {
    const matrix = renderOperationsMatrix();
    const implemented = new Set<string>(STYTCH_OPERATIONS.map((operation) => operation.operationId));
    for (const operation of CONTRACT_OPERATIONS) {
      const rows = matrix.split('\n').filter((line) => line.startsWith(`| \`${operation.sdkMethod}\` |`));
      expect(rows, operation.sdkMethod).toEqual([`| \`${operation.sdkMethod}\` | \`${operation.method} ${operation.url}\` | ${implemented.has(operation.operationId) ? 'implemented' : 'not yet (501)'} |`]);
    }
    for (const extension of EXTENSION_OPERATIONS) expect(matrix).toContain(`| \`${extension.name}\` | \`${extension.method} ${extension.url}\` |`);
  });
});
