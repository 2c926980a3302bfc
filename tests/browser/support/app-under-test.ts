import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { B2BClient } from 'stytch';

/**
 * A tiny "customer application": the page an impersonation URL points at. Like a real customer's
 * backend, it hands the token to the official SDK's `impersonation.authenticate` and shows whom the
 * session belongs to and who is really acting. The session token is in a data attribute so a test
 * can keep using the session.
 */
export interface AppUnderTest {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** Where the impersonation redirect URL points. */
  readonly authenticateUrl: string;
  stop(): Promise<void>;
}

export async function startAppUnderTest(client: B2BClient): Promise<AppUnderTest> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://app.invalid');
    const send = (status: number, body: string) => {
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Customer app</title></head><body>${body}</body></html>`);
    };
    if (url.pathname !== '/authenticate') return send(404, '<h1>Not found</h1>');
    const token = url.searchParams.get('token') ?? '';
    const tokenType = url.searchParams.get('stytch_token_type');
    if (tokenType !== 'multi_tenant_impersonation') return send(400, `<h1>Unexpected token type</h1><p id="error">${escapeHtml(String(tokenType))}</p>`);
    client.impersonation.authenticate({ impersonation_token: token }).then(
      (answer) => {
        const session = answer.member_session;
        const factor = session?.authentication_factors[0];
        send(
          200,
          `<h1>Signed in as <span id="member-email">${escapeHtml(answer.member.email_address)}</span></h1>
<dl>
  <dt>Organization</dt><dd id="organization">${escapeHtml(answer.organization.organization_name)}</dd>
  <dt>Session</dt><dd id="member-session-id">${escapeHtml(session?.member_session_id ?? '(none)')}</dd>
  <dt>Impersonated by</dt><dd id="impersonator-email">${escapeHtml(factor?.impersonated_factor?.impersonator_email_address ?? '(nobody)')}</dd>
</dl>
<div id="session" data-session-token="${escapeHtml(answer.session_token)}" hidden></div>`,
        );
      },
      (error: unknown) => send(401, `<h1>Impersonation refused</h1><p id="error">${escapeHtml(String((error as { error_type?: unknown }).error_type ?? error))}</p>`),
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    authenticateUrl: `${origin}/authenticate`,
    stop: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : done()));
      }),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
