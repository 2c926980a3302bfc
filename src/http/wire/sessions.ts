import type { Organization } from '../../domain/organizations/organization.js';
import type { MemberSession } from '../../domain/sessions/session.js';
import { encodeFactor, type WireFactor } from '../../domain/sessions/session-claims.js';

/** Stytch's MemberSession object (`api_b2b_session_v1_MemberSession` in the contract). */
export interface MemberSessionWire {
  member_session_id: string;
  member_id: string;
  started_at: string;
  last_accessed_at: string;
  expires_at: string;
  authentication_factors: WireFactor[];
  organization_id: string;
  roles: string[];
  organization_slug: string;
  custom_claims: Record<string, unknown>;
}

export function encodeMemberSession(session: MemberSession, organization: Pick<Organization, 'organizationSlug'>): MemberSessionWire {
  return {
    member_session_id: session.memberSessionId,
    member_id: session.memberId,
    started_at: session.startedAt,
    last_accessed_at: session.lastAccessedAt,
    expires_at: session.expiresAt,
    authentication_factors: session.authenticationFactors.map(encodeFactor),
    organization_id: session.organizationId,
    roles: [...session.roles],
    organization_slug: organization.organizationSlug,
    custom_claims: { ...session.customClaims },
  };
}
