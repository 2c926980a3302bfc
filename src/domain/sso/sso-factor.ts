import { SSO_FACTOR_CONNECTION_FIELD, SSO_FACTOR_TYPE } from '../rbac/session-roles.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import type { SsoProof } from './sso-request.js';

/** The registration id prefix, delivery method and factor sub-object of each protocol, as Stytch names them. */
const BY_PROTOCOL = {
  saml: { registrationPrefix: 'saml-member-registration', deliveryMethod: 'sso_saml', detail: 'saml_sso_factor' },
  oidc: { registrationPrefix: 'oidc-member-registration', deliveryMethod: 'sso_oidc', detail: 'oidc_sso_factor' },
} as const satisfies Record<SsoProof['protocol'], { registrationPrefix: string; deliveryMethod: string; detail: string }>;

export function registrationPrefixOf(protocol: SsoProof['protocol']): (typeof BY_PROTOCOL)[SsoProof['protocol']]['registrationPrefix'] {
  return BY_PROTOCOL[protocol].registrationPrefix;
}

/**
 * The factor an SSO sign-in adds to a session: `id` is the member's registration, `provider_id` the
 * connection signed in through (an external connection's own id, not its source's: implicit roles
 * are assigned per connection of the organization, session-roles.ts), `external_id` the IdP's subject.
 */
export function ssoFactor(input: { protocol: SsoProof['protocol']; registrationId: string; connectionId: string; subject: string; at: string }): AuthenticationFactor {
  const { deliveryMethod, detail } = BY_PROTOCOL[input.protocol];
  return {
    type: SSO_FACTOR_TYPE,
    deliveryMethod,
    createdAt: input.at,
    lastAuthenticatedAt: input.at,
    updatedAt: input.at,
    detail: { name: detail, fields: { id: input.registrationId, [SSO_FACTOR_CONNECTION_FIELD]: input.connectionId, external_id: input.subject } },
  };
}
