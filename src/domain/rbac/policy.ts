export interface PolicyPermission {
  readonly resourceId: string;
  readonly actions: readonly string[];
}

export interface PolicyRole {
  readonly roleId: string;
  readonly description: string;
  readonly permissions: readonly PolicyPermission[];
}

export interface PolicyResource {
  readonly resourceId: string;
  readonly description: string;
  readonly actions: readonly string[];
}

export interface Policy {
  readonly roles: readonly PolicyRole[];
  readonly resources: readonly PolicyResource[];
  readonly scopes: readonly { readonly scope: string; readonly description: string; readonly permissions: readonly PolicyPermission[] }[];
}

/**
 * Stytch's default resources and roles (the reserved actions are listed in Stytch's public
 * OpenAPI description of `api_b2b_rbac_v1_PolicyResource`). `stytch_member` holds every
 * `stytch.self` permission; `stytch_admin` every permission on the organization, its members and
 * its SSO connections. Custom roles and resources arrive with the RBAC issue.
 */
export const DEFAULT_POLICY: Policy = {
  resources: [
    {
      resourceId: 'stytch.organization',
      description: 'Access controls for the organization.',
      actions: [
        'update.info.name', 'update.info.slug', 'update.info.untrusted_metadata', 'update.info.email_jit_provisioning',
        'update.info.logo_url', 'update.info.email_invites', 'update.info.allowed_domains', 'update.info.default_sso_connection',
        'update.info.sso_jit_provisioning', 'update.info.mfa_policy', 'update.info.implicit_roles', 'delete',
      ],
    },
    {
      resourceId: 'stytch.member',
      description: 'Access controls for all members of the organization.',
      actions: [
        'create', 'update.info.name', 'update.info.untrusted_metadata', 'update.info.mfa-phone', 'update.info.delete.mfa-phone',
        'update.settings.is-breakglass', 'update.settings.mfa_enrolled', 'update.settings.roles', 'search', 'delete',
      ],
    },
    { resourceId: 'stytch.sso', description: 'Access controls for SSO connections.', actions: ['create', 'update', 'delete'] },
    {
      resourceId: 'stytch.self',
      description: "Access controls for the signed-in member's own member object.",
      actions: [
        'update.info.name', 'update.info.untrusted_metadata', 'update.info.mfa-phone', 'update.info.delete.mfa-phone',
        'update.info.delete.password', 'update.settings.mfa_enrolled', 'delete',
      ],
    },
  ],
  roles: [
    {
      roleId: 'stytch_member',
      description: 'Granted to every member: all permissions on their own member object.',
      permissions: [{ resourceId: 'stytch.self', actions: ['*'] }],
    },
    {
      roleId: 'stytch_admin',
      description: 'Administers the organization, its members and its SSO connections.',
      permissions: [
        { resourceId: 'stytch.organization', actions: ['*'] },
        { resourceId: 'stytch.member', actions: ['*'] },
        { resourceId: 'stytch.sso', actions: ['*'] },
      ],
    },
  ],
  scopes: [],
};
