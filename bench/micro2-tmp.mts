import { readFileSync } from 'node:fs';
import { startServer } from '../src/main.js';
import { loadConfig } from '../src/config/load.js';
const fixtures = JSON.parse(readFileSync('/tmp/microdb/fixtures.json', 'utf8'));
const job = JSON.parse(readFileSync('/tmp/microdb/job.json', 'utf8'));
const config = loadConfig({ env: { UNDERSTUDY_DATA_DIR: '/tmp/microdb', UNDERSTUDY_PORT: '0', UNDERSTUDY_PROJECT_ID: job.projectId, UNDERSTUDY_PROJECT_SECRET: 'secret-test-benchmark-0123456789abcdef', UNDERSTUDY_MASTER_KEY: job.masterKey, UNDERSTUDY_LOG_LEVEL: 'info' } });
const server = await startServer(config, { logger: (await import('../src/platform/logger.js')).createLogger('info', { write() {} } as any) });
const auth = `Basic ${Buffer.from(`${job.projectId}:secret-test-benchmark-0123456789abcdef`).toString('base64')}`;
const app = server.app.http;
async function time(label: string, make: (i: number) => any, n = 20000) {
  for (let i = 0; i < 3000; i++) { const r = await app.inject(make(i)); if (r.statusCode !== 200) throw new Error(r.body); }
  const t = performance.now();
  for (let i = 0; i < n; i++) await app.inject(make(i));
  console.log(label, ((performance.now() - t) * 1000 / n).toFixed(1), 'µs/op');
}
const only = process.argv[2];
if (!only) await time('jwks', () => ({ method: 'GET', url: `/v1/b2b/sessions/jwks/${job.projectId}` }));
if (!only) await time('healthz', () => ({ method: 'GET', url: `/healthz` }));
await time('session-token', (i) => ({ method: 'POST', url: '/v1/b2b/sessions/authenticate', headers: { authorization: auth, 'content-type': 'application/json' }, payload: JSON.stringify({ session_token: fixtures.sessionTokens[i % 1000] }) }));
const m = fixtures.members;
if (!only) await time('members-get', (i) => ({ method: 'GET', url: `/v1/b2b/organizations/${m[i % m.length].organizationId}/member?member_id=${m[i % m.length].memberId}`, headers: { authorization: auth } }));
const svc = server.app.services.sessions;
const ctx = { requestId: 'r', actor: { type: 'project', projectId: job.projectId }, client: { ipAddress: '127.0.0.1', userAgent: '' } } as any;
let t = performance.now(); const N = 20000;
for (let i = 0; i < N; i++) await svc.authenticate(ctx, { sessionToken: fixtures.sessionTokens[i % 1000] });
console.log('service.authenticate', ((performance.now() - t) * 1000 / N).toFixed(1), 'µs/op');
const { encodeAuthenticatedSession } = await import('../src/http/routes/sessions.js');
const r = await svc.authenticate(ctx, { sessionToken: fixtures.sessionTokens[0] });
t = performance.now();
for (let i = 0; i < N; i++) JSON.stringify({ request_id: 'x', ...encodeAuthenticatedSession(r), status_code: 200 });
console.log('encode+stringify', ((performance.now() - t) * 1000 / N).toFixed(1), 'µs/op');
await server.close();
