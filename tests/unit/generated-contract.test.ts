import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { B2BClient } from 'stytch';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_OPERATIONS } from '../../src/api/generated/operations.js';

/**
 * src/api/generated is made by `npm run contract` from contract/ and the official SDK. These tests
 * keep the committed files equal to what the generator writes, and check the table it wrote.
 */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GENERATOR = join(PROJECT_ROOT, 'scripts/generate-contract.mjs');

function generate(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [GENERATOR, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** The generator asks every SDK method which path it calls, which takes a few seconds on a busy machine. */
const GENERATOR_TIMEOUT_MS = 60_000;

/** The value at a dotted path such as `organizations.members.create`, or undefined. */
function at(root: object, dottedPath: string): unknown {
  let value: unknown = root;
  for (const name of dottedPath.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

function duplicates(values: readonly string[]): string[] {
  return values.filter((value, index) => values.indexOf(value) !== index);
}

describe('npm run contract', () => {
  const folders: string[] = [];
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('has written the committed src/api/generated from contract/ (run `npm run contract` if this fails)', () => {
    const { status, output } = generate('--check');
    expect(status, output).toBe(0);
  }, GENERATOR_TIMEOUT_MS);

  it('fails its check, naming the file, when a generated file differs', () => {
    const folder = mkdtempSync(join(tmpdir(), 'understudy-generated-'));
    folders.push(folder);
    // The committed files are what the generator writes (the test above), so a copy passes the check until edited.
    cpSync(join(PROJECT_ROOT, 'src/api/generated'), folder, { recursive: true });
    appendFileSync(join(folder, 'operations.ts'), '// edited by hand\n');
    const { status, output } = generate('--check', '--out', folder);
    expect(status).toBe(1);
    expect(output).toContain(join(folder, 'operations.ts'));
    expect(output).not.toContain('contract-types.ts');
  }, GENERATOR_TIMEOUT_MS);
});

describe('CONTRACT_OPERATIONS', () => {
  it('names each operation, and each route, once', () => {
    expect(duplicates(CONTRACT_OPERATIONS.map((operation) => operation.operationId))).toEqual([]);
    expect(duplicates(CONTRACT_OPERATIONS.map((operation) => `${operation.method} ${operation.url}`))).toEqual([]);
  });

  it('names a method of the official SDK for every operation', () => {
    const client = new B2BClient({ project_id: 'project-test-00000000-0000-0000-0000-000000000000', secret: 'secret-test-generated-contract', custom_base_url: 'https://sdk.invalid' });
    const missing = CONTRACT_OPERATIONS.filter((operation) => typeof at(client, operation.sdkMethod) !== 'function').map((operation) => operation.sdkMethod);
    expect(missing).toEqual([]);
  });
});
