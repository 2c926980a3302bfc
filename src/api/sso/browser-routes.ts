import type { FastifyInstance } from 'fastify';
import { browserContext, single } from '../../http/browser-request.js';
import type { Services } from '../../services.js';
import { SSO_START_PATH } from '../../domain/sso/sso-urls.js';
import { registerOidcCallback } from './oidc-callback.js';
import { registerSamlRoutes } from './saml-routes.js';

/**
 * The routes browsers (not the project's backend) call during an SSO sign-in, with no project
 * credentials: the start URL Stytch's frontend SDKs open (`sso.start()`), and the identity
 * providers' answers (the SAML ACS, the OIDC redirect URL). Refusals are Stytch-shaped JSON errors,
 * as Stytch answers them.
 */
export function registerSsoBrowserRoutes(app: FastifyInstance, services: Pick<Services, 'ssoFlows' | 'oidcProtocol' | 'samlProtocol'>): void {
  registerOidcCallback(app, services);
  registerSamlRoutes(app, services);
  app.get<{ Querystring: Record<string, unknown> }>(SSO_START_PATH, { config: { access: 'public', operation: 'sso.start' } }, async (request, reply) => {
    const query = request.query;
    const location = await services.ssoFlows.start(browserContext(request), {
      connectionId: single(query.connection_id),
      publicToken: single(query.public_token),
      loginRedirectUrl: single(query.login_redirect_url),
      signupRedirectUrl: single(query.signup_redirect_url),
      pkceCodeChallenge: single(query.pkce_code_challenge),
    });
    return reply.code(302).header('location', location).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
  });
}
