import type { OidcUpdateInput } from '../../../domain/sso/connections-oidc.js';
import { oidcChange } from '../../../domain/sso/connections-trust.js';
import { encodeOidcConnection } from '../../../http/wire/sso.js';
import { type RequestBodyOf, stytchOperation } from '../../operation.js';
import { changeLimitsOf, ssoCall } from '../connection-requirements.js';

/** sso.oidc.updateConnection: changes only the fields sent; the client secret is answered masked. */
export default stytchOperation({
  operationId: 'api_sso_v1_sso_oidc_UpdateConnection',
  memberAuthorization: ({ params, body, context }, services) =>
    ssoCall(services, params.organization_id, 'update', { context, connectionId: params.connection_id, change: oidcChange(decode(body)) }),
  async handle({ params, body, context }, { ssoConnections, publicOrigin }) {
    const view = await ssoConnections.updateOidc(context, params.organization_id, params.connection_id, decode(body), changeLimitsOf(context));
    return { connection: encodeOidcConnection(view, publicOrigin.url) };
  },
});

function decode(body: RequestBodyOf<'api_sso_v1_sso_oidc_UpdateConnection'>): OidcUpdateInput {
  return {
    displayName: body.display_name,
    clientId: body.client_id,
    clientSecret: body.client_secret,
    issuer: body.issuer,
    authorizationUrl: body.authorization_url,
    tokenUrl: body.token_url,
    userinfoUrl: body.userinfo_url,
    jwksUrl: body.jwks_url,
    identityProvider: body.identity_provider,
    customScopes: body.custom_scopes,
    attributeMapping: body.attribute_mapping,
  };
}
