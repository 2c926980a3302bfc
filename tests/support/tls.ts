import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { B2BClient } from 'stytch';
import { Agent } from 'undici';

export interface SelfSignedCertificate {
  /** Path to the PEM certificate, for `startTestServer({ https: { cert, key } })`. */
  readonly cert: string;
  /** Path to the PEM private key. */
  readonly key: string;
  /** The certificate itself, for clients that must trust it. */
  readonly pem: string;
  /** Deletes the temporary directory holding both files. */
  cleanup(): void;
}

const OPENSSL = '/usr/bin/openssl';

/**
 * A throwaway self-signed certificate valid for `localhost` and `127.0.0.1`. Node checks the
 * subjectAltName (not the CN), so both names go there; the key is EC P-256 so generation is instant.
 */
export function makeSelfSignedCertificate(): SelfSignedCertificate {
  const directory = mkdtempSync(join(tmpdir(), 'understudy-tls-'));
  const cert = join(directory, 'cert.pem');
  const key = join(directory, 'key.pem');
  const extensions = join(directory, 'san.cnf');
  writeFileSync(
    extensions,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ext',
      'prompt = no',
      '[dn]',
      'CN = localhost',
      '[ext]',
      'subjectAltName = DNS:localhost,IP:127.0.0.1',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,digitalSignature,keyCertSign',
      'extendedKeyUsage = serverAuth',
      '',
    ].join('\n'),
  );
  execFileSync(
    OPENSSL,
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-keyout', key, '-out', cert, '-config', extensions],
    { stdio: 'pipe' },
  );
  return { cert, key, pem: readFileSync(cert, 'utf8'), cleanup: () => rmSync(directory, { recursive: true, force: true }) };
}

/**
 * An undici dispatcher that trusts only `pem`, for the SDK's `dispatcher` option.
 *
 * The SDK calls Node's global `fetch` with `{ ...fetchConfig }`, which includes `dispatcher`
 * (node_modules/stytch/dist/shared/index.js). Node 20 bundles undici 6, and the npm undici@6
 * `Agent` implements the same Dispatcher interface, so the global fetch accepts it as is; the
 * conformance tests over HTTPS prove that on every run.
 */
export function trustingDispatcher(pem: string): Agent {
  return new Agent({ connect: { ca: pem } });
}

/** The SDK pointed at an HTTPS Understudy through `custom_base_url`, trusting the test certificate. */
export function httpsClient(options: { port: number; pem: string; projectId: string; secret: string; dispatcher?: Agent }): B2BClient {
  return new B2BClient({
    project_id: options.projectId,
    secret: options.secret,
    custom_base_url: `https://localhost:${options.port}/`,
    dispatcher: options.dispatcher ?? trustingDispatcher(options.pem),
  });
}
