import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { TEST_MASTER_KEY, TEST_PROJECT_SECRET } from './test-constants.js';

/**
 * Every server a test starts logs at `debug` into a file of the current run, and the global
 * teardown (tests/support/log-scan-setup.ts) scans all of them for secrets (docs/reliability.md,
 * "Secrets hygiene"). Outside a `vitest run` the files go to the `adhoc` folder.
 */
export const TEST_LOG_ROOT = join(tmpdir(), 'understudy-test-logs');
export const TEST_LOG_RUN_ENV = 'UNDERSTUDY_TEST_LOG_RUN';
/** `debug` by default (every request and response line); UNDERSTUDY_TEST_LOG_LEVEL=trace or silent to change it. */
export const TEST_LOG_LEVEL = process.env.UNDERSTUDY_TEST_LOG_LEVEL ?? 'debug';

let destination: pino.DestinationStream | undefined;

export function testLogDirectory(run = process.env[TEST_LOG_RUN_ENV] ?? 'adhoc'): string {
  return join(TEST_LOG_ROOT, run);
}

/** One append-only file per test worker process, shared by the servers it starts. */
export function testLogDestination(): pino.DestinationStream {
  if (destination === undefined) {
    const directory = testLogDirectory();
    mkdirSync(directory, { recursive: true });
    destination = pino.destination({ dest: join(directory, `worker-${process.pid}.ndjson`), sync: true, append: true });
  }
  return destination;
}

export interface SecretFinding {
  readonly kind: string;
  readonly excerpt: string;
}

/** Shapes that must never be logged, whatever test produced them. */
const SECRET_PATTERNS: readonly { kind: string; pattern: RegExp }[] = [
  { kind: 'JWT', pattern: /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g },
  { kind: 'Basic credentials', pattern: /Basic [A-Za-z0-9+/]{40,}={0,2}/g },
  { kind: 'project secret', pattern: /secret-(?:test|live)-[\w-]{8,}/g },
  { kind: 'password value', pattern: /"password"\s*:\s*"(?!\[redacted\]")[^"]+"/g },
  { kind: 'token value', pattern: /"(?:session_token|impersonation_token|intermediate_session_token|token)"\s*:\s*"(?!\[redacted\]")[^"]+"/g },
  { kind: 'private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/g },
  { kind: 'private JWK member', pattern: /"(?:d|p|q|dp|dq|qi)"\s*:\s*"[\w-]{20,}"/g },
];

/** Every secret-looking string in `text`, plus every occurrence of the `known` secrets (exact strings). */
export function findSecrets(text: string, known: readonly string[] = []): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const excerptAt = (index: number, length: number): string => text.slice(Math.max(0, index - 80), index + length + 40);
  for (const { kind, pattern } of SECRET_PATTERNS) {
    for (const match of text.matchAll(pattern)) findings.push({ kind, excerpt: excerptAt(match.index, match[0].length) });
  }
  for (const secret of new Set([TEST_PROJECT_SECRET, TEST_MASTER_KEY, Buffer.from(TEST_MASTER_KEY, 'base64').toString('hex'), ...known])) {
    if (secret.length < 6) continue;
    let index = text.indexOf(secret);
    while (index >= 0) {
      findings.push({ kind: 'known secret', excerpt: excerptAt(index, secret.length) });
      index = text.indexOf(secret, index + 1);
    }
  }
  return findings;
}

/** Scans every log file of a run; returns the findings with their file names. */
export function scanLogDirectory(directory: string): { files: number; bytes: number; findings: (SecretFinding & { file: string })[] } {
  let files = 0;
  let bytes = 0;
  const findings: (SecretFinding & { file: string })[] = [];
  for (const name of readdirSync(directory)) {
    const text = readFileSync(join(directory, name), 'utf8');
    files += 1;
    bytes += text.length;
    for (const finding of findSecrets(text)) findings.push({ ...finding, file: name });
  }
  return { files, bytes, findings };
}
