import { describe, expect, it } from 'vitest';
import type { AuthenticationFactor, MemberSession } from '../../src/domain/sessions/session.js';
import { encodeFactor, sessionClaims } from '../../src/domain/sessions/session-claims.js';
import { anOrganization } from '../support/builders/organization-builder.js';

const PROJECT_ID = 'project-test-00000000-0000-4000-8000-000000000001';
const ORGANIZATION = anOrganization({ organizationId: 'organization-test-00000000-0000-4000-8000-000000000002', organizationSlug: 'acme' });

const EMAIL_FACTOR: AuthenticationFactor = {
  type: 'magic_link',
  deliveryMethod: 'email',
  createdAt: '2026-03-01T12:00:00Z',
  lastAuthenticatedAt: '2026-03-01T12:00:00Z',
  updatedAt: '2026-03-01T12:00:00Z',
  detail: { name: 'email_factor', fields: { email_id: 'email-test-1', email_address: 'ada@acme.example' } },
};

const IMPERSONATED_FACTOR: AuthenticationFactor = {
  type: 'impersonated',
  deliveryMethod: 'impersonation',
  createdAt: '2026-03-01T12:00:00Z',
  lastAuthenticatedAt: '2026-03-01T12:00:00Z',
  updatedAt: '2026-03-01T12:00:00Z',
  detail: { name: 'impersonated_factor', fields: { impersonator_id: 'user-test-9', impersonator_email_address: 'support@vendor.example' } },
};

function aSession(overrides: Partial<MemberSession> = {}): MemberSession {
  return {
    memberSessionId: 'session-test-00000000-0000-4000-8000-000000000003',
    memberId: 'member-test-00000000-0000-4000-8000-000000000004',
    organizationId: ORGANIZATION.organizationId,
    startedAt: '2026-03-01T12:00:00Z',
    lastAccessedAt: '2026-03-01T12:05:00Z',
    expiresAt: '2026-03-01T13:00:00Z',
    authenticationFactors: [EMAIL_FACTOR],
    customClaims: { plan: 'pro', nested: { seats: 3 } },
    attributes: { ipAddress: '203.0.113.7', userAgent: 'agent/1.0' },
    roles: ['stytch_member', 'stytch_admin'],
    revokedAt: null,
    ...overrides,
  };
}

describe('sessionClaims (the session JWT payload)', () => {
  it('lays out iss, aud, sub, the session and organization claims, and custom claims at the top level', () => {
    expect(sessionClaims(aSession(), ORGANIZATION, PROJECT_ID)).toStrictEqual({
      plan: 'pro',
      nested: { seats: 3 },
      iss: `stytch.com/${PROJECT_ID}`,
      aud: [PROJECT_ID],
      sub: 'member-test-00000000-0000-4000-8000-000000000004',
      'https://stytch.com/session': {
        id: 'session-test-00000000-0000-4000-8000-000000000003',
        started_at: '2026-03-01T12:00:00Z',
        last_accessed_at: '2026-03-01T12:05:00Z',
        expires_at: '2026-03-01T13:00:00Z',
        attributes: { ip_address: '203.0.113.7', user_agent: 'agent/1.0' },
        authentication_factors: [
          {
            type: 'magic_link',
            delivery_method: 'email',
            last_authenticated_at: '2026-03-01T12:00:00Z',
            created_at: '2026-03-01T12:00:00Z',
            updated_at: '2026-03-01T12:00:00Z',
            email_factor: { email_id: 'email-test-1', email_address: 'ada@acme.example' },
          },
        ],
        roles: ['stytch_member', 'stytch_admin'],
      },
      'https://stytch.com/organization': { organization_id: ORGANIZATION.organizationId, slug: 'acme' },
    });
  });

  it('adds no time claims (iat, nbf, exp) and no act claim to an ordinary session', () => {
    const claims = sessionClaims(aSession({ customClaims: {} }), ORGANIZATION, PROJECT_ID);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'https://stytch.com/organization', 'https://stytch.com/session', 'iss', 'sub']);
  });

  it('carries act {sub, email} with the impersonator for an impersonated session (RFC 8693 §4.1)', () => {
    const claims = sessionClaims(aSession({ authenticationFactors: [IMPERSONATED_FACTOR] }), ORGANIZATION, PROJECT_ID);
    expect(claims.act).toStrictEqual({ sub: 'user-test-9', email: 'support@vendor.example' });
    expect(claims.sub).toBe('member-test-00000000-0000-4000-8000-000000000004');
    expect((claims['https://stytch.com/session'] as { authentication_factors: unknown[] }).authentication_factors).toStrictEqual([
      {
        type: 'impersonated',
        delivery_method: 'impersonation',
        last_authenticated_at: '2026-03-01T12:00:00Z',
        created_at: '2026-03-01T12:00:00Z',
        updated_at: '2026-03-01T12:00:00Z',
        impersonated_factor: { impersonator_id: 'user-test-9', impersonator_email_address: 'support@vendor.example' },
      },
    ]);
  });

  it('lets the registered and Stytch claims win over custom claims of the same name that slipped past validation', () => {
    const claims = sessionClaims(
      aSession({ customClaims: { iss: 'evil', sub: 'someone-else', aud: ['other'], 'https://stytch.com/session': {} } }),
      ORGANIZATION,
      PROJECT_ID,
    );
    expect(claims.iss).toBe(`stytch.com/${PROJECT_ID}`);
    expect(claims.sub).toBe('member-test-00000000-0000-4000-8000-000000000004');
    expect(claims.aud).toEqual([PROJECT_ID]);
    expect((claims['https://stytch.com/session'] as { id: string }).id).toBe('session-test-00000000-0000-4000-8000-000000000003');
  });
});

describe('encodeFactor', () => {
  it('leaves out the sub-factor object when the factor has no detail', () => {
    const { detail: _detail, ...withoutDetail } = EMAIL_FACTOR;
    expect(encodeFactor(withoutDetail)).toStrictEqual({
      type: 'magic_link',
      delivery_method: 'email',
      last_authenticated_at: '2026-03-01T12:00:00Z',
      created_at: '2026-03-01T12:00:00Z',
      updated_at: '2026-03-01T12:00:00Z',
    });
  });
});
