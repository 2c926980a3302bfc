import type { PolicyResource } from './policy.js';

/**
 * Understudy's own RBAC resources, beside Stytch's: fixed like Stytch's (a policy may not remove or
 * change them, and no custom resource may start with `understudy.`), granted to `stytch_admin` by
 * the built-in default policy. Apps check them like any resource (`authorization_check`).
 */
export const SUPPORT_ACCESS_RESOURCE = 'understudy.support-access';
export const IMPERSONATION_RESOURCE = 'understudy.impersonation';
/** Custom resource ids may not start with this (in any case): the names are Understudy's. */
export const UNDERSTUDY_PREFIX = 'understudy.';

export const UNDERSTUDY_RESOURCES: readonly PolicyResource[] = [
  {
    resourceId: SUPPORT_ACCESS_RESOURCE,
    description: "The vendor's support access to the organization: access grants, the impersonation policy, notifications and webhook endpoints.",
    // grant: open a grant, approve or deny a request; revoke: end an open grant; read: list grants and
    // the policy; update.settings: change the policy, notifications and webhook endpoints.
    actions: ['grant', 'revoke', 'read', 'update.settings'],
  },
  {
    resourceId: IMPERSONATION_RESOURCE,
    description: "Impersonation inside the organization: members' admins impersonating its members, and its impersonation audit trail.",
    // create: impersonate a member of one's own organization (delegated impersonation);
    // read-audit: read and export the organization's impersonation audit trail.
    actions: ['create', 'read-audit'],
  },
];
