import type { FastifyInstance } from 'fastify';
import { SSO_CALLBACK_ROUTE } from '../../domain/sso/sso-urls.js';
import type { Services } from '../../services.js';
import { browserContext, single } from '../../http/browser-request.js';

/**
 * The OIDC redirect URL (`GET /v1/b2b/sso/callback/:connection_id`, the path SAML's ACS POSTs to):
 * the identity provider sends the browser back here with `code` and `state` (or `error`). SsoFlows
 * finds the sign-in `state` names, OidcProtocol exchanges the code and checks what the IdP says, and
 * the browser goes on to the application's redirect URL with the SSO token. The token is in that
 * URL, so it is neither cached nor sent on as a referrer.
 */
export function registerOidcCallback(app: FastifyInstance, services: Pick<Services, 'ssoFlows' | 'oidcProtocol'>): void {
  app.get<{ Params: { connection_id: string }; Querystring: Record<string, unknown> }>(
    SSO_CALLBACK_ROUTE,
    { config: { access: 'public', operation: 'sso.oidc.callback' } },
    async (request, reply) => {
      // The parameters exactly as the IdP sent them: openid-client refuses repeated ones, and checks `iss`.
      const parameters = new URL(request.url, 'http://callback.invalid').searchParams;
      const location = await services.ssoFlows.finish(browserContext(request), {
        connectionId: request.params.connection_id,
        kind: 'oidc',
        state: single(request.query.state),
        verify: (connection, ssoRequest) => services.oidcProtocol.verifyCallback(connection, ssoRequest, parameters),
      });
      return reply.code(302).header('location', location).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
    },
  );
}
