import { describe, expect, it } from 'vitest';
import { maskRestriction } from '../../src/domain/impersonation/permission-mask.js';
import type { PermissionMask } from '../../src/domain/impersonation/impersonation.js';
import { authorize } from '../../src/domain/rbac/authorize.js';
import { authorizeMemberCall, type MemberCallRequirement } from '../../src/domain/rbac/member-call.js';
import { DEFAULT_ROLES } from '../../src/domain/rbac/policy.js';

/**
 * An impersonated session's permission mask in the two authorization decisions: a permission counts
 * only where the mask allows the very resource and action that grant it, and a refusal is the error
 * of a permission the roles do not grant.
 */
const ORGANIZATION = 'organization-test-1';
const MEMBER = 'member-test-1';

/** A mask listing these `resource:action` pairs (none of these resource ids holds ":"). */
function listed(...texts: string[]): PermissionMask {
  return { actions: texts.map((text) => ({ resourceId: text.slice(0, text.indexOf(':')), action: text.slice(text.indexOf(':') + 1) })) };
}

function verdict(requirement: Omit<MemberCallRequirement, 'organizationIds'> & Partial<Pick<MemberCallRequirement, 'organizationIds'>>, roles: string[], mask: PermissionMask | null): string {
  try {
    authorizeMemberCall({ organizationIds: [ORGANIZATION], ...requirement }, { organizationId: ORGANIZATION, memberId: MEMBER, roles }, DEFAULT_ROLES, maskRestriction(mask));
    return 'allowed';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('authorizeMemberCall under a mask', () => {
  const renameSelf = { targetMemberId: MEMBER, permissions: [{ resourceId: 'stytch.member', action: 'update.info.name', selfAction: 'update.info.name' }] };
  const member = ['stytch_member'];
  const admin = ['stytch_member', 'stytch_admin'];

  it('allows a stytch.self action on oneself only when the mask allows that stytch.self action', () => {
    expect(verdict(renameSelf, member, null)).toBe('allowed');
    expect(verdict(renameSelf, member, listed('stytch.self:update.info.name'))).toBe('allowed');
    // The member's roles grant it through stytch.self only, so a mask naming stytch.member does not allow it.
    expect(verdict(renameSelf, member, listed('stytch.member:update.info.name'))).toBe('session_authorization_error');
    expect(verdict(renameSelf, admin, listed('stytch.member:update.info.name'))).toBe('allowed');
    expect(verdict(renameSelf, admin, { readOnly: true })).toBe('session_authorization_error');
  });

  it('needs every permission of the call allowed; "*" never is', () => {
    const searchAndDelete = { permissions: [{ resourceId: 'stytch.member', action: 'search' }, { resourceId: 'stytch.member', action: 'delete' }] };
    expect(verdict(searchAndDelete, admin, { readOnly: true })).toBe('session_authorization_error');
    expect(verdict(searchAndDelete, admin, listed('stytch.member:search', 'stytch.member:delete'))).toBe('allowed');
    expect(verdict({ permissions: [{ resourceId: 'stytch.organization', action: '*' }] }, admin, { readOnly: true })).toBe('session_authorization_error');
    expect(verdict({ permissions: [] }, admin, listed('stytch.member:search'))).toBe('allowed');
  });

  it('still refuses another organization with the tenancy error first', () => {
    expect(verdict({ permissions: [{ resourceId: 'stytch.member', action: 'search' }], organizationIds: ['organization-test-2'] }, admin, { readOnly: true })).toBe('session_authorization_tenancy_error');
  });
});

describe('authorize (authorization_check) under a mask', () => {
  const check = (action: string) => ({ organizationId: ORGANIZATION, resourceId: 'stytch.member', action });
  const session = { organizationId: ORGANIZATION, roles: ['stytch_member', 'stytch_admin'] };

  it('names the granting roles when the mask allows it, and refuses as ungranted when it does not', () => {
    expect(authorize(check('search'), session, DEFAULT_ROLES, maskRestriction({ readOnly: true })).grantingRoles).toEqual(['stytch_admin']);
    expect(() => authorize(check('delete'), session, DEFAULT_ROLES, maskRestriction({ readOnly: true }))).toThrow(expect.objectContaining({ code: 'session_authorization_error' }));
    expect(() => authorize(check('search'), { ...session, roles: ['stytch_member'] }, DEFAULT_ROLES, maskRestriction(listed('stytch.member:search')))).toThrow(
      expect.objectContaining({ code: 'session_authorization_error' }),
    );
  });
});
