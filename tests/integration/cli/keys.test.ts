import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killLeftoverProcesses, runCliToExit, temporaryDirectory } from './cli-process.js';

/** `understudy keys list|rotate` as an operator runs them against a SQLite data directory. */
const scratch = temporaryDirectory('keys');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

const PROJECT = { UNDERSTUDY_PROJECT_ID: 'project-test-11111111-2222-4333-8444-555555555555', UNDERSTUDY_PROJECT_SECRET: 'secret-test-keys-cli-0123456789' };
const MASTER_KEY = Buffer.alloc(32, 5).toString('base64');
const TIMESTAMP = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z';
const KID = 'jwk-test-[0-9a-f-]{36}';

interface KeyRow {
  state: string;
  kid: string;
  createdAt: string;
  activeFrom: string;
  activeUntil: string;
  publishedUntil: string;
}

/** The rows of the `keys list` table, checking its header. */
function parseKeyTable(stdout: string): KeyRow[] {
  const [header, ...lines] = stdout.trimEnd().split('\n');
  expect(header).toMatch(/^STATE +KID +CREATED +ACTIVE FROM +ACTIVE UNTIL +PUBLISHED UNTIL$/);
  return lines.map((line) => {
    const [state, kid, createdAt, activeFrom, activeUntil, publishedUntil] = line.split(/ +/);
    return { state, kid, createdAt, activeFrom, activeUntil, publishedUntil } as KeyRow;
  });
}

const seconds = (timestamp: string): number => Date.parse(timestamp) / 1000;

describe('understudy keys', () => {
  const dataDir = join(scratch.path, 'data');
  const env = { UNDERSTUDY_DATA_DIR: dataDir, UNDERSTUDY_MASTER_KEY: MASTER_KEY, ...PROJECT };

  it('keys list on a fresh data directory says there is no key yet and exits 0', async () => {
    const result = await runCliToExit(['keys', 'list'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('No signing keys yet: `understudy serve` or `understudy keys rotate` creates the first one.\n');
  });

  it('keys rotate on a fresh data directory creates the first key, rotates it, and prints both timelines', async () => {
    const result = await runCliToExit(['keys', 'rotate'], env);
    expect(result.code, result.stderr).toBe(0);
    const match = new RegExp(
      `^Rotated the signing key\\. New key (${KID}):\\n` +
        `  published in the JWKS now; signs new JWTs from (${TIMESTAMP}) \\(after 60 s\\)\\.\\n` +
        `Old key (${KID}): signs until (${TIMESTAMP}); leaves the JWKS at (${TIMESTAMP})\\.\\n` +
        'Running servers pick the change up within 15 seconds\\.\\n$',
    ).exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    const [, newKid, activeFrom, oldKid, oldActiveUntil, oldPublishedUntil] = match as unknown as string[];
    expect(oldActiveUntil).toBe(activeFrom);
    expect(seconds(oldPublishedUntil as string) - seconds(activeFrom as string)).toBe(300 + 60);

    const rows = parseKeyTable((await runCliToExit(['keys', 'list'], env)).stdout);
    expect(rows).toHaveLength(2);
    const oldRow = rows.find((row) => row.kid === oldKid);
    const newRow = rows.find((row) => row.kid === newKid);
    expect(oldRow).toMatchObject({ state: 'signing', activeUntil: activeFrom, publishedUntil: oldPublishedUntil });
    expect(newRow).toMatchObject({ state: 'next', activeFrom, activeUntil: '-', publishedUntil: '-' });
    expect(seconds(activeFrom as string) - seconds(newRow?.createdAt as string)).toBe(60);
  });

  it('keys rotate --activation-delay-seconds 0 makes the new key sign at once and leaves the others published', async () => {
    const result = await runCliToExit(['keys', 'rotate', '--activation-delay-seconds', '0'], env);
    expect(result.code, result.stderr).toBe(0);
    const newKid = new RegExp(`New key (${KID})`).exec(result.stdout)?.[1];
    expect(result.stdout).toContain('(after 0 s)');
    const rows = parseKeyTable((await runCliToExit(['keys', 'list'], env)).stdout);
    expect(rows).toHaveLength(3);
    expect(rows.filter((row) => row.state === 'signing').map((row) => row.kid)).toEqual([newKid]);
    expect(rows.filter((row) => row.state === 'published')).toHaveLength(2);
  });

  it('keys list refuses a master key other than the one the keys were sealed with, exiting 78 without a stack trace', async () => {
    const result = await runCliToExit(['keys', 'list'], { ...env, UNDERSTUDY_MASTER_KEY: Buffer.alloc(32, 6).toString('base64') });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^understudy: the master key does not match the one that encrypted signing key ${KID}: set UNDERSTUDY_MASTER_KEY`));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.concurrent('understudy keys with bad arguments', () => {
  const dataDir = join(scratch.path, 'never-created');
  const env = { UNDERSTUDY_DATA_DIR: dataDir, UNDERSTUDY_MASTER_KEY: MASTER_KEY };

  it.for([
    [['keys'], 'Missing keys subcommand.'],
    [['keys', 'spin'], 'Unknown keys subcommand "spin".'],
    [['keys', 'rotate', '--activation-delay-seconds=-5'], '--activation-delay-seconds must be a whole number of seconds from 0 to 31536000 (got "-5").'],
    [['keys', 'rotate', '--activation-delay-seconds', '1.5'], '--activation-delay-seconds must be a whole number of seconds from 0 to 31536000 (got "1.5").'],
    [['keys', 'list', '--activation-delay-seconds', '5'], '--activation-delay-seconds applies only to `keys rotate`.'],
  ])('%j exits 2 with the problem and the keys usage, touching nothing', async ([args, problem], { expect }) => {
    const result = await runCliToExit(args as string[], env);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^${(problem as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n\\nUsage: understudy keys <list\\|rotate>`));
    expect(existsSync(dataDir)).toBe(false);
  });

  it('help lists both keys commands', async ({ expect }) => {
    const result = await runCliToExit(['help'], {});
    expect(result.stdout).toContain('keys list');
    expect(result.stdout).toContain('keys rotate');
  });
});
