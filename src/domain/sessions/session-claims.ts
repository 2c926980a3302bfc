import type { PermissionMask } from '../impersonation/impersonation.js';
import { maskToWire } from '../impersonation/permission-mask.js';
import type { Organization } from '../organizations/organization.js';
import type { AuthenticationFactor, MemberSession } from './session.js';

/**
 * The session JWT's claims exactly as the SDKs read them. They are a token
 * format, not an HTTP body, so they live with the session; the names are the claim names.
 */
export const SESSION_CLAIM = 'https://stytch.com/session';
export const ORGANIZATION_CLAIM = 'https://stytch.com/organization';
/** Ours, beside `act`: what a restricted impersonated session may do, `"read_only"` or its `resource:action` list. */
export const ACT_PERMISSIONS_CLAIM = 'act_permissions';

export interface WireFactor {
  type: string;
  delivery_method: string;
  last_authenticated_at: string;
  created_at: string;
  updated_at: string;
  [subFactor: string]: unknown;
}

export function encodeFactor(factor: AuthenticationFactor): WireFactor {
  return {
    type: factor.type,
    delivery_method: factor.deliveryMethod,
    last_authenticated_at: factor.lastAuthenticatedAt,
    created_at: factor.createdAt,
    updated_at: factor.updatedAt,
    ...(factor.detail && { [factor.detail.name]: { ...factor.detail.fields } }),
  };
}

/**
 * Claims without the time claims (`iat`, `nbf`, `exp`): equal claims mean a cached JWT may be reused.
 * `mask` is an impersonated session's permission mask, carried as `act_permissions`.
 */
export function sessionClaims(session: MemberSession, organization: Organization, projectId: string, mask: PermissionMask | null = null): Record<string, unknown> {
  const impersonation = session.authenticationFactors.find((factor) => factor.type === 'impersonated')?.detail?.fields;
  return {
    ...session.customClaims,
    iss: `stytch.com/${projectId}`,
    aud: [projectId],
    sub: session.memberId,
    [SESSION_CLAIM]: {
      id: session.memberSessionId,
      started_at: session.startedAt,
      last_accessed_at: session.lastAccessedAt,
      expires_at: session.expiresAt,
      attributes: { ip_address: session.attributes.ipAddress, user_agent: session.attributes.userAgent },
      authentication_factors: session.authenticationFactors.map(encodeFactor),
      roles: [...session.roles],
    },
    [ORGANIZATION_CLAIM]: { organization_id: organization.organizationId, slug: organization.organizationSlug },
    // RFC 8693 §4.1: the party actually acting, so any JWT-aware service can tell an impersonation apart.
    ...(impersonation && { act: { sub: impersonation.impersonator_id, email: impersonation.impersonator_email_address } }),
    ...(impersonation && mask !== null && { [ACT_PERMISSIONS_CLAIM]: maskToWire(mask) }),
  };
}
