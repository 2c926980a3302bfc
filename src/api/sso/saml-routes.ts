import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { SAML_METADATA_ROUTE, SSO_CALLBACK_ROUTE } from '../../domain/sso/sso-urls.js';
import type { Services } from '../../services.js';
import { browserContext, single } from '../../http/browser-request.js';

/**
 * A SAMLResponse is a signed assertion or two, base64: tens of kilobytes at most, even with
 * certificates and many groups. Bounded well below the API's limit, since anyone may post here.
 */
const ACS_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * SAML's two browser-facing endpoints of a connection (docs/sso.md, "SAML"): the ACS, where the
 * IdP's page posts the Response (HTTP-POST binding: a form with `SAMLResponse` and `RelayState`),
 * which SsoFlows finishes with SamlProtocol's verdict, sending the browser on to the application's
 * redirect URL with the SSO token (303: the browser follows with a GET); and our SP metadata, which
 * the IdP is configured from. Refusals are Stytch-shaped JSON errors.
 */
export function registerSamlRoutes(app: FastifyInstance, services: Pick<Services, 'ssoFlows' | 'samlProtocol'>): void {
  void app.register(async (scope) => {
    // Form bodies here only: the API itself takes JSON alone.
    await scope.register(fastifyFormbody, { bodyLimit: ACS_BODY_LIMIT_BYTES });

    scope.post<{ Params: { connection_id: string }; Body: unknown }>(
      SSO_CALLBACK_ROUTE,
      { bodyLimit: ACS_BODY_LIMIT_BYTES, config: { access: 'public', operation: 'sso.saml.acs' } },
      async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const post = { SAMLResponse: single(body.SAMLResponse), RelayState: single(body.RelayState) };
        const location = await services.ssoFlows.finish(browserContext(request), {
          connectionId: request.params.connection_id,
          kind: 'saml',
          // An empty RelayState is none: IdP-initiated.
          state: post.RelayState === '' ? undefined : post.RelayState,
          verify: (connection, ssoRequest) => services.samlProtocol.verifyResponse(connection, ssoRequest, post),
        });
        // The token is in that URL: neither cached nor sent on as a referrer.
        return reply.code(303).header('location', location).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send();
      },
    );

    scope.get<{ Params: { connection_id: string } }>(SAML_METADATA_ROUTE, { config: { access: 'public', operation: 'sso.saml.metadata' } }, async (request, reply) => {
      const metadata = await services.samlProtocol.metadata(request.params.connection_id);
      return reply.code(200).type('application/samlmetadata+xml; charset=utf-8').send(metadata);
    });
  });
}
