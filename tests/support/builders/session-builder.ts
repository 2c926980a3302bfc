import { randomUUID } from 'node:crypto';
import { createOpaqueToken, type OpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { MemberSession } from '../../../src/domain/sessions/session.js';
import { cryptoRandom } from '../../../src/platform/random.js';

let sequence = 0;

/**
 * A valid, live member session as the domain stores it (style rule 21). Pass `organizationId` and
 * `memberId` (both must exist before the session is inserted). Each call gets a fresh id and a
 * start one second after the previous call's; it lasts an hour from `startedAt`.
 */
export function aSession(overrides: Partial<MemberSession> & { readonly organizationId: string; readonly memberId: string }): MemberSession {
  sequence += 1;
  const startedAt = new Date(Date.UTC(2026, 0, 1) + sequence * 1000);
  const started = toTimestamp(startedAt);
  return {
    memberSessionId: `session-test-${randomUUID()}`,
    startedAt: started,
    lastAccessedAt: started,
    expiresAt: toTimestamp(new Date(startedAt.getTime() + 60 * 60_000)),
    authenticationFactors: [
      {
        type: 'magic_link',
        deliveryMethod: 'email',
        createdAt: started,
        lastAuthenticatedAt: started,
        updatedAt: started,
        detail: { name: 'email_factor', fields: { email_id: `email-test-${randomUUID()}`, email_address: `session-${sequence}@example.com` } },
      },
    ],
    customClaims: {},
    attributes: { ipAddress: '203.0.113.7', userAgent: 'builder-agent/1.0' },
    roles: ['stytch_member'],
    revokedAt: null,
    ...overrides,
  };
}

/** A fresh opaque session token with its lookup id and digest, as `insertSession` takes them. */
export function aSessionToken(): OpaqueToken {
  return createOpaqueToken(cryptoRandom);
}

function toTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
