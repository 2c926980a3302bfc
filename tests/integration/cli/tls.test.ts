import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { B2BClient } from 'stytch';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killLeftoverProcesses, runCli, temporaryDirectory, type CliProcess } from './cli-process.js';

const PROJECT_ID = 'project-test-11111111-2222-4333-8444-555555555555';
const SECRET = 'secret-test-tls-0123456789abcdef';
const scratch = temporaryDirectory('tls');

let cli: CliProcess;
let url: string;
let trusting: Agent;

beforeAll(async () => {
  const cert = join(scratch.path, 'cert.pem');
  const key = join(scratch.path, 'key.pem');
  // A self-signed certificate for the loopback address, made fresh for this run.
  execFileSync('/usr/bin/openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  trusting = new Agent({ connect: { ca: readFileSync(cert) } });
  cli = runCli(['serve'], {
    UNDERSTUDY_DATA_DIR: join(scratch.path, 'data'),
    UNDERSTUDY_PORT: '0',
    UNDERSTUDY_PROJECT_ID: PROJECT_ID,
    UNDERSTUDY_PROJECT_SECRET: SECRET,
    UNDERSTUDY_TLS_CERT: cert,
    UNDERSTUDY_TLS_KEY: key,
  });
  url = await cli.listening();
});

afterAll(async () => {
  await cli?.stop();
  await trusting?.close();
  killLeftoverProcesses();
  scratch.remove();
});

describe('understudy serve with UNDERSTUDY_TLS_CERT and UNDERSTUDY_TLS_KEY', () => {
  it('announces an https:// URL', () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers HTTPS with the configured certificate', async () => {
    const response = await undiciFetch(`${url}/healthz`, { dispatcher: trusting });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('is refused by a client that does not trust the certificate', async () => {
    const untrusting = new Agent();
    try {
      await expect(undiciFetch(`${url}/healthz`, { dispatcher: untrusting })).rejects.toThrow();
    } finally {
      await untrusting.close();
    }
  });

  it('does not answer plain HTTP on the same port', async () => {
    const plain = url.replace('https://', 'http://');
    const outcome = await fetch(`${plain}/healthz`).then(
      (response) => response.status,
      () => 'failed',
    );
    expect(outcome).not.toBe(200);
  });

  it('works with the stytch SDK through custom_base_url', async () => {
    const client = new B2BClient({ project_id: PROJECT_ID, secret: SECRET, custom_base_url: `${url}/`, dispatcher: trusting });
    const created = await client.organizations.create({ organization_name: 'Secure Co', organization_slug: 'secure-co' });
    expect(created.status_code).toBe(200);
    const fetched = await client.organizations.get({ organization_id: created.organization.organization_id });
    expect(fetched.organization.organization_name).toBe('Secure Co');
  });
});
