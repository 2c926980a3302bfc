import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET } from '../support/test-constants.js';
import { findSecrets, scanLogDirectory } from '../support/test-logs.js';

/** The scan the global teardown runs over every test server's log (tests/support/log-scan-setup.ts) must be able to fail. */
const line = (fields: Record<string, unknown>): string => `${JSON.stringify({ level: 30, time: 1795658694336, pid: 4242, reqId: 'request-id-test-6545ad5f-667e-43ce-976b-e015ac3487c1', ...fields })}\n`;

describe('the log scan for secrets', () => {
  it.each([
    ['a JWT', line({ msg: 'oops', jwt: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZW1iZXIifQ.c2lnbmF0dXJl' }), 'JWT'],
    ['Basic credentials', line({ headers: { authorization: `Basic ${Buffer.from(`${TEST_PROJECT_ID}:x`).toString('base64')}` } }), 'Basic credentials'],
    ['a project secret', line({ msg: 'secret-live-abcdefgh12345678' }), 'project secret'],
    ['the test project secret', line({ msg: `configured ${TEST_PROJECT_SECRET}` }), 'known secret'],
    ['the master key', line({ key: TEST_MASTER_KEY }), 'known secret'],
    ['the master key as hex', line({ key: Buffer.from(TEST_MASTER_KEY, 'base64').toString('hex') }), 'known secret'],
    ['a password', line({ body: { password: 'hunter2-hunter2' } }), 'password value'],
    ['a session token', line({ body: { session_token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }), 'token value'],
    ['a PEM private key', line({ msg: '-----BEGIN PRIVATE KEY-----' }), 'private key'],
    ['a private JWK member', line({ jwk: { kty: 'RSA', d: 'x'.repeat(40) } }), 'private JWK member'],
  ])('finds %s', (_name, text, kind) => {
    expect(findSecrets(text).map((finding) => finding.kind)).toContain(kind);
  });

  it('finds a caller-supplied secret wherever it appears', () => {
    expect(findSecrets(line({ msg: 'x', cookie: 'tok-1234567890abcdef' }), ['tok-1234567890abcdef'])).toHaveLength(1);
  });

  it('finds nothing in ordinary request lines, redacted fields included', () => {
    const text = [
      line({ req: { method: 'POST', url: '/v1/b2b/sessions/authenticate', host: '127.0.0.1:4000', remoteAddress: '127.0.0.1', remotePort: 5555 }, msg: 'incoming request' }),
      line({ req: { method: 'GET', url: '/v1/b2b/impersonation/audit?[query redacted]' }, msg: 'incoming request' }),
      line({ res: { statusCode: 401 }, responseTime: 1.25, msg: 'request completed' }),
      line({ body: { password: '[redacted]', session_token: '[redacted]' }, msg: 'Basic authentication failed for project-test-x' }),
      line({ url: 'http://127.0.0.1:4000', project_id: TEST_PROJECT_ID, msg: 'understudy is listening' }),
    ].join('');
    expect(findSecrets(text)).toEqual([]);
  });

  it('reports the file of each finding when it scans a run folder', () => {
    const directory = mkdtempSync(join(tmpdir(), 'understudy-log-scan-'));
    try {
      writeFileSync(join(directory, 'worker-1.ndjson'), line({ msg: 'clean' }));
      writeFileSync(join(directory, 'worker-2.ndjson'), line({ msg: TEST_PROJECT_SECRET }));
      const result = scanLogDirectory(directory);
      expect({ files: result.files, findings: result.findings.map((finding) => finding.file) }).toEqual({ files: 2, findings: ['worker-2.ndjson', 'worker-2.ndjson'] });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
