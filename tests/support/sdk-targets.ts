import { B2BClient } from 'stytch';
import type { Agent } from 'undici';
import type { StoreFactory } from './stores.js';
import { startTestServer, type TestServer, type TestServerOptions } from './test-server.js';
import { httpsClient, makeSelfSignedCertificate, trustingDispatcher, type SelfSignedCertificate } from './tls.js';

/**
 * How the conformance suites reach Understudy: plain HTTP through the SDK's `env` option (as a
 * local server usually is), and HTTPS through `custom_base_url` (which the SDK only accepts with
 * `https://`), trusting a throwaway self-signed certificate.
 */
export const TRANSPORTS = ['http', 'https'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface SdkTarget {
  readonly server: TestServer;
  /** The SDK with the project's real credentials. */
  readonly client: B2BClient;
  /** The SDK against the same server with other credentials (for unauthorized_credentials). */
  clientWith(credentials: { projectId: string; secret: string }): B2BClient;
  stop(): Promise<void>;
}

/** Starts one server for a (store, transport) pair; suites start it in beforeAll and reuse it. */
export async function startSdkTarget(
  store: StoreFactory['name'],
  transport: Transport,
  options: Omit<TestServerOptions, 'store' | 'https' | 'dispatcher'> = {},
): Promise<SdkTarget> {
  let certificate: SelfSignedCertificate | undefined;
  let dispatcher: Agent | undefined;
  if (transport === 'https') {
    certificate = makeSelfSignedCertificate();
    dispatcher = trustingDispatcher(certificate.pem);
  }
  const server = await startTestServer({
    ...options,
    store,
    ...(certificate && dispatcher && { https: { cert: certificate.cert, key: certificate.key }, dispatcher }),
  });
  const port = Number(new URL(server.baseUrl).port);
  return {
    server,
    client: server.client,
    clientWith(credentials) {
      if (certificate === undefined) return new B2BClient({ project_id: credentials.projectId, secret: credentials.secret, env: `${server.baseUrl}/` });
      return httpsClient({ port, pem: certificate.pem, projectId: credentials.projectId, secret: credentials.secret, ...(dispatcher && { dispatcher }) });
    },
    async stop() {
      await server.stop();
      await dispatcher?.close();
      certificate?.cleanup();
    },
  };
}
