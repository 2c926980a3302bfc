import { randomUUID } from 'node:crypto';
import type { Member } from '../../../src/domain/members/member.js';

let sequence = 0;

/**
 * A valid, active member as the domain stores it (style rule 21). Pass `organizationId` (the
 * organization must exist before the member is inserted). Each call gets a fresh id, email and
 * creation time one second after the previous call's.
 */
export function aMember(overrides: Partial<Member> & { readonly organizationId: string }): Member {
  sequence += 1;
  const unique = randomUUID();
  const createdAt = new Date(Date.UTC(2026, 0, 1) + sequence * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    memberId: `member-test-${unique}`,
    emailAddress: `member-${sequence}-${unique.slice(0, 8)}@example.com`,
    emailAddressVerified: false,
    status: 'active',
    name: `Member ${sequence}`,
    externalId: null,
    isBreakglass: false,
    mfaPhoneNumber: '',
    mfaPhoneNumberVerified: false,
    mfaEnrolled: false,
    defaultMfaMethod: '',
    assignedRoles: [],
    ssoGroups: {},
    ssoRegistrations: [],
    trustedMetadata: {},
    untrustedMetadata: {},
    retiredEmailAddresses: [],
    memberPasswordId: '',
    totpRegistrationId: '',
    isLocked: false,
    lockCreatedAt: null,
    lockExpiresAt: null,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}
