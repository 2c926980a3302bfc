import { isDomainError } from '../domain/common/domain-error.js';
import type { OperationContext } from '../domain/common/operation-context.js';
import type { MemberCallRequirement, RequiredPermission } from '../domain/rbac/member-call.js';
import { ANY_ACTION, STYTCH_RESOURCES } from '../domain/rbac/policy.js';
import { canonicalEmail } from '../domain/members/member.js';
import { addedImplicitAssignments, gainedPermissions, rolesGainedByAddress } from '../domain/rbac/role-gains.js';
import type { ApiServices, RequestBodyOf } from './operation.js';

import type { CallRequirement as Requirement } from './member-session-call.js';

/**
 * What the admin endpoints that accept member-session headers need from the member they run as
 * (docs/compatibility.md, "Member-session headers"): the shared pieces of their `memberAuthorization`.
 * Every lookup here only reads. A reference that names nothing resolves to undefined: an
 * organization nobody can find counts as another organization (a tenancy refusal, which tells a
 * caller nothing about other organizations), and a member nobody can find is not the caller.
 */

export const ORGANIZATION_RESOURCE = 'stytch.organization';
export const MEMBER_RESOURCE = 'stytch.member';
/** Giving a member a role, by whatever route: never a stytch.self action. */
export const GIVING_ROLES: RequiredPermission = { resourceId: MEMBER_RESOURCE, action: 'update.settings.roles' };

/** A field no member session may set, whatever its roles (Stytch: trusted_metadata is the backend's alone). */
export const FORBIDDEN = Symbol('forbidden');
/** A field that changes nothing by itself (it only qualifies another change), so it needs no action. */
export const NOT_A_CHANGE = Symbol('not a change');

/** What one request field needs: an action on the endpoint's resource, or one of the two marks above. */
export type FieldRule = string | typeof FORBIDDEN | typeof NOT_A_CHANGE;
/** A rule for every field of a request body: the compiler refuses a map that misses one. */
export type FieldRules<Body> = { readonly [Field in keyof Required<Body>]: FieldRule };

/**
 * organizations.update: the stytch.organization action each field needs, as Stytch names them.
 * Fields Stytch names no action for (the external id, claimed domains, connected-app settings)
 * need every action (`*`): only a role granted the whole resource may change them.
 */
export const ORGANIZATION_UPDATE_RULES: FieldRules<RequestBodyOf<'api_organization_v1_Update'>> = {
  organization_name: 'update.info.name',
  organization_slug: 'update.info.slug',
  organization_logo_url: 'update.info.logo-url',
  sso_default_connection_id: 'update.settings.default-sso-connection',
  sso_jit_provisioning: 'update.settings.sso-jit-provisioning',
  sso_jit_provisioning_allowed_connections: 'update.settings.sso-jit-provisioning',
  email_allowed_domains: 'update.settings.allowed-domains',
  email_jit_provisioning: 'update.settings.email-jit-provisioning',
  email_invites: 'update.settings.email-invites',
  auth_methods: 'update.settings.allowed-auth-methods',
  allowed_auth_methods: 'update.settings.allowed-auth-methods',
  mfa_policy: 'update.settings.mfa-policy',
  rbac_email_implicit_role_assignments: 'update.settings.implicit-roles',
  mfa_methods: 'update.settings.allowed-mfa-methods',
  allowed_mfa_methods: 'update.settings.allowed-mfa-methods',
  oauth_tenant_jit_provisioning: 'update.settings.oauth-tenant-jit-provisioning',
  allowed_oauth_tenants: 'update.settings.allowed-oauth-tenants',
  organization_external_id: ANY_ACTION,
  claimed_email_domains: ANY_ACTION,
  first_party_connected_apps_allowed_type: ANY_ACTION,
  allowed_first_party_connected_apps: ANY_ACTION,
  third_party_connected_apps_allowed_type: ANY_ACTION,
  allowed_third_party_connected_apps: ANY_ACTION,
  trusted_metadata: FORBIDDEN,
};

/**
 * organizations.members.update: the stytch.member action each field needs; the same stytch.self
 * action grants it when the member is the caller, where stytch.self has that action (it has no
 * is-breakglass, no roles and no `*`). `unlink_email` takes the address off the member, so it
 * needs what changing the address needs; `external_id`, which Stytch names no action for, needs `*`.
 */
export const MEMBER_UPDATE_RULES: FieldRules<RequestBodyOf<'api_organization_v1_organizations_members_Update'>> = {
  name: 'update.info.name',
  untrusted_metadata: 'update.info.untrusted-metadata',
  mfa_phone_number: 'update.info.mfa-phone',
  mfa_enrolled: 'update.settings.mfa-enrolled',
  default_mfa_method: 'update.settings.default-mfa-method',
  is_breakglass: 'update.settings.is-breakglass',
  roles: 'update.settings.roles',
  email_address: 'update.info.email',
  unlink_email: 'update.info.email',
  external_id: ANY_ACTION,
  trusted_metadata: FORBIDDEN,
  preserve_existing_sessions: NOT_A_CHANGE,
};

/** The actions of stytch.self: where a stytch.member action has a stytch.self twin of the same name. */
const SELF_ACTIONS: ReadonlySet<string> = new Set(STYTCH_RESOURCES.find((resource) => resource.resourceId === 'stytch.self')?.actions ?? []);

/** An action on stytch.organization. */
export function organizationPermission(action: string): RequiredPermission {
  return { resourceId: ORGANIZATION_RESOURCE, action };
}

/** An action on stytch.member, which stytch.self grants too for the caller's own member object when it has that action. */
export function memberPermission(action: string): RequiredPermission {
  return { resourceId: MEMBER_RESOURCE, action, selfAction: SELF_ACTIONS.has(action) ? action : undefined };
}

/** The fields of `body` that were sent, split into the actions they need (once each) and the forbidden ones. */
export function fieldRequirements<Body extends object>(body: Body, rules: FieldRules<Body>): { actions: string[]; forbiddenFields: string[] } {
  const actions = new Set<string>();
  const forbiddenFields: string[] = [];
  for (const [field, value] of Object.entries(body)) {
    const rule = (rules as Readonly<Record<string, FieldRule>>)[field];
    // A field outside the contract never reaches the service (the decoders read only known fields).
    if (value === undefined || rule === undefined || rule === NOT_A_CHANGE) continue;
    if (rule === FORBIDDEN) forbiddenFields.push(field);
    else actions.add(rule);
  }
  return { actions: [...actions], forbiddenFields };
}

/** The member a call runs as (memberAuthorization runs only for member-session calls). */
export function callerOf(context: OperationContext): { organizationId: string; memberId: string } {
  const actor = context.actor;
  if (actor.type !== 'member_session') throw new Error(`memberAuthorization ran for a ${actor.type} actor`);
  return { organizationId: actor.organizationId, memberId: actor.memberId };
}

/** The lookup's result, or undefined when what it looks for does not exist; other failures propagate. */
async function unlessNotFound<T>(lookup: Promise<T>): Promise<T | undefined> {
  try {
    return await lookup;
  } catch (error) {
    if (isDomainError(error) && error.kind === 'not_found') return undefined;
    throw error;
  }
}

/** The id of the organization an id, slug or external id names (as every organization_id Stytch takes); undefined when none. */
export async function organizationIdOf(services: Pick<ApiServices, 'organizations'>, reference: string): Promise<string | undefined> {
  return (await unlessNotFound(services.organizations.get(reference)))?.organizationId;
}

/** The id of the live member a member id or external id names in that organization; undefined when none. */
export async function memberIdOf(services: Pick<ApiServices, 'members'>, organizationId: string | undefined, reference: string): Promise<string | undefined> {
  if (organizationId === undefined) return undefined;
  return (await unlessNotFound(services.members.get(organizationId, { memberId: reference })))?.member.memberId;
}

/** A call on the organization itself (organizations.update, .delete, .deleteExternalId). */
export async function organizationCall(
  services: Pick<ApiServices, 'organizations'>,
  organizationReference: string,
  actions: readonly string[],
  forbiddenFields: readonly string[] = [],
): Promise<Requirement> {
  return organizationRequirement(await organizationIdOf(services, organizationReference), actions, forbiddenFields);
}

/** The requirement of a call on the organization `organizationId` names (undefined: none, a tenancy refusal), run on that id. */
function organizationRequirement(organizationId: string | undefined, actions: readonly string[], forbiddenFields: readonly string[]): Requirement {
  return {
    organizationIds: [organizationId],
    permissions: actions.map(organizationPermission),
    forbiddenFields,
    ...(organizationId !== undefined && { resolvedParams: { organization_id: organizationId } }),
  };
}

/** A call on one member of an organization (path organization_id and member_id): stytch.member, or stytch.self on oneself. */
export async function memberCall(
  services: Pick<ApiServices, 'organizations' | 'members'>,
  organizationReference: string,
  memberReference: string,
  actions: readonly string[],
  forbiddenFields: readonly string[] = [],
): Promise<Requirement> {
  const organizationId = await organizationIdOf(services, organizationReference);
  const targetMemberId = await memberIdOf(services, organizationId, memberReference);
  return {
    organizationIds: [organizationId],
    targetMemberId,
    permissions: actions.map(memberPermission),
    forbiddenFields,
    ...(organizationId !== undefined && { resolvedParams: { organization_id: organizationId, ...(targetMemberId !== undefined && { member_id: targetMemberId }) } }),
  };
}

/**
 * organizations.update: the action of every field sent. An update sending no field changes nothing
 * but its timestamp and answers the caller's own organization, which its session shows anyway, so
 * it needs only membership.
 */
export async function organizationUpdateCall(
  services: Pick<ApiServices, 'organizations'>,
  organizationReference: string,
  body: RequestBodyOf<'api_organization_v1_Update'>,
): Promise<Requirement> {
  const { actions, forbiddenFields } = fieldRequirements(body, ORGANIZATION_UPDATE_RULES);
  const given = body.rbac_email_implicit_role_assignments;
  if (given === undefined) return organizationCall(services, organizationReference, actions, forbiddenFields);
  // The organization is read once: its id for the check, its assignments for what the call adds.
  const organization = await unlessNotFound(services.organizations.get(organizationReference));
  const requirement = organizationRequirement(organization?.organizationId, actions, forbiddenFields);
  // A new implicit assignment gives its role to every member at that domain, the caller's own included: that is giving roles.
  const added = addedImplicitAssignments(organization?.settings.rbacEmailImplicitRoleAssignments ?? [], given.map((assignment) => ({ domain: assignment.domain.toLowerCase(), roleId: assignment.role_id })));
  return added.length > 0 ? { ...requirement, permissions: [...requirement.permissions, GIVING_ROLES] } : requirement;
}

/**
 * organizations.members.update: the action of every field sent. An update sending no change still
 * answers the whole member: of another member, that needs what reading members needs (search); of
 * oneself, nothing more.
 */
export async function memberUpdateCall(
  services: Pick<ApiServices, 'organizations' | 'members'>,
  context: OperationContext,
  path: { organization_id: string; member_id: string },
  body: RequestBodyOf<'api_organization_v1_organizations_members_Update'>,
): Promise<Requirement> {
  const { actions, forbiddenFields } = fieldRequirements(body, MEMBER_UPDATE_RULES);
  const requirement = await memberCall(services, path.organization_id, path.member_id, actions, forbiddenFields);
  if (actions.length === 0 && requirement.targetMemberId !== callerOf(context).memberId) return { ...requirement, permissions: [memberPermission('search')] };
  if (body.email_address === undefined || requirement.targetMemberId === undefined) return requirement;
  return { ...requirement, permissions: [...requirement.permissions, ...(await rolesByNewAddress(services, requirement.targetMemberId, body.email_address))] };
}

/**
 * A new address whose domain the organization's implicit assignments give roles to gives the member
 * those roles (at once, to sessions kept with preserve_existing_sessions): that is giving roles, so
 * it needs update.settings.roles on stytch.member, which stytch.self never grants. Otherwise a member
 * allowed to change their own address could make themselves an admin.
 */
async function rolesByNewAddress(services: Pick<ApiServices, 'members'>, memberId: string, emailAddress: string): Promise<RequiredPermission[]> {
  const found = await unlessNotFound(services.members.dangerouslyGet(memberId, { includeDeleted: false }));
  if (found === undefined) return [];
  return rolesGainedByAddress(found.member, found.organization, canonicalEmail(emailAddress)).length > 0 ? [GIVING_ROLES] : [];
}

/**
 * organizations.members.reactivate brings a member back with the roles and break-glass they had:
 * that needs what creating them with those would (create, update.settings.roles, update.settings.is-breakglass).
 */
export async function reactivateCall(services: Pick<ApiServices, 'organizations' | 'members'>, path: { organization_id: string; member_id: string }): Promise<Requirement> {
  const organizationId = await organizationIdOf(services, path.organization_id);
  const found = await unlessNotFound(services.members.dangerouslyGet(path.member_id, { includeDeleted: true }));
  const member = found !== undefined && found.member.organizationId === organizationId ? found.member : undefined;
  const { permissions } = newMemberRequirement({ roles: member?.assignedRoles ?? [], is_breakglass: member?.isBreakglass ?? false });
  return { organizationIds: [organizationId], permissions, ...(organizationId !== undefined && { resolvedParams: { organization_id: organizationId } }) };
}

/**
 * rbac.organizations.setOrgPolicy with member-session headers: besides stytch.custom-org-roles
 * update, a member may only grant what they hold themselves. Every permission a role gains (a
 * resource and action it did not have before under that role id) must be granted to the caller,
 * or an organization role editor could write themselves a role with every permission.
 */
export async function setOrgPolicyCall(
  services: Pick<ApiServices, 'organizations'>,
  organizationReference: string,
  roles: readonly { role_id: string; permissions: readonly { resource_id: string; actions: readonly string[] }[] }[],
): Promise<Requirement> {
  const organization = await unlessNotFound(services.organizations.get(organizationReference));
  return {
    organizationIds: [organization?.organizationId],
    permissions: [{ resourceId: 'stytch.custom-org-roles', action: 'update' }, ...gainedPermissions(organization?.settings.customRoles ?? [], roles)],
    ...(organization !== undefined && { resolvedParams: { organization_id: organization.organizationId } }),
  };
}

/** What adds a member (members.create, magicLinks.email.invite): create, plus what any roles or break-glass given need. */
export function newMemberRequirement(body: { roles?: readonly string[] | undefined; is_breakglass?: boolean | undefined; trusted_metadata?: unknown }): {
  permissions: RequiredPermission[];
  forbiddenFields: string[];
} {
  const actions = ['create'];
  if ((body.roles ?? []).length > 0) actions.push('update.settings.roles');
  if (body.is_breakglass === true) actions.push('update.settings.is-breakglass');
  return { permissions: actions.map((action) => ({ resourceId: MEMBER_RESOURCE, action })), forbiddenFields: body.trusted_metadata === undefined ? [] : ['trusted_metadata'] };
}

/** organizations.members.create: what adding a member needs (newMemberRequirement), in the organization the path names. */
export async function newMemberCall(
  services: Pick<ApiServices, 'organizations'>,
  organizationReference: string,
  body: RequestBodyOf<'api_organization_v1_organizations_members_Create'>,
): Promise<Requirement> {
  const { permissions, forbiddenFields } = newMemberRequirement(body);
  const requirement = await organizationCall(services, organizationReference, [], forbiddenFields);
  return { ...requirement, permissions };
}

/**
 * organizations.members.deletePassword names a password, not a member. Whether it is the caller's
 * own is told by the caller's member object, which names its password: any other password id (of
 * another member, or of nobody) needs stytch.member.
 */
export async function passwordOwnerCall(
  services: Pick<ApiServices, 'organizations' | 'members'>,
  context: OperationContext,
  organizationReference: string,
  memberPasswordId: string,
): Promise<MemberCallRequirement> {
  const caller = callerOf(context);
  const organizationId = await organizationIdOf(services, organizationReference);
  const own = organizationId === caller.organizationId ? await unlessNotFound(services.members.get(organizationId, { memberId: caller.memberId })) : undefined;
  const isOwn = own !== undefined && memberPasswordId !== '' && own.member.memberPasswordId === memberPasswordId;
  return {
    organizationIds: [organizationId],
    targetMemberId: isOwn ? caller.memberId : undefined,
    permissions: [memberPermission('update.info.delete.password')],
    ...(organizationId !== undefined && { resolvedParams: { organization_id: organizationId } }),
  };
}

/**
 * passwords.email.requireReset deletes one member's password (ours: update.info.delete.password,
 * stytch.member or stytch.self), named by organization_id and/or member_id. With neither, or with
 * cross-organization passwords (one password for the address in every organization), the call
 * reaches beyond the caller's organization, so it is a tenancy refusal.
 */
export async function requireResetCall(
  services: Pick<ApiServices, 'organizations' | 'members' | 'memberPasswords'>,
  body: RequestBodyOf<'api_b2b_password_v1_b2b_passwords_email_RequireReset'>,
): Promise<MemberCallRequirement> {
  const organizationReference = body.organization_id === '' ? undefined : body.organization_id;
  const memberReference = body.member_id === '' ? undefined : body.member_id;
  const permissions = [memberPermission('update.info.delete.password')];
  if (services.memberPasswords.settings.crossOrgPasswordsEnabled || (organizationReference === undefined && memberReference === undefined)) {
    return { organizationIds: [undefined], permissions };
  }
  if (organizationReference === undefined) {
    const found = await unlessNotFound(services.members.dangerouslyGet(memberReference as string, { includeDeleted: false }));
    return { organizationIds: [found?.organization.organizationId], targetMemberId: found?.member.memberId, permissions };
  }
  const organizationId = await organizationIdOf(services, organizationReference);
  const targetMemberId =
    memberReference !== undefined
      ? await memberIdOf(services, organizationId, memberReference)
      : organizationId === undefined
        ? undefined
        : (await unlessNotFound(services.members.get(organizationId, { emailAddress: body.email_address })))?.member.memberId;
  return { organizationIds: [organizationId], targetMemberId, permissions };
}

/**
 * sessions.revoke: revoke-sessions on stytch.member, or on stytch.self for the caller's own
 * sessions; the target is member_id, or the member whose session member_session_id, session_token
 * or session_jwt names. Sending none or several is the operation's own 400, so only the caller's
 * organization and the action are asked for then.
 */
export async function revokeCall(
  services: Pick<ApiServices, 'members' | 'sessions'>,
  context: OperationContext,
  body: RequestBodyOf<'api_b2b_session_v1_Revoke'>,
): Promise<MemberCallRequirement> {
  const permissions = [memberPermission('revoke-sessions')];
  const given = [body.member_id, body.member_session_id, body.session_token, body.session_jwt].filter((value) => value !== undefined);
  if (given.length !== 1) return { organizationIds: [callerOf(context).organizationId], permissions };
  if (body.member_id !== undefined) {
    const found = await unlessNotFound(services.members.dangerouslyGet(body.member_id, { includeDeleted: true }));
    return { organizationIds: [found?.organization.organizationId], targetMemberId: found?.member.memberId, permissions };
  }
  const owner = await services.sessions.ownerOf({ memberSessionId: body.member_session_id, sessionToken: body.session_token, sessionJwt: body.session_jwt });
  return { organizationIds: [owner?.organizationId], targetMemberId: owner?.memberId, permissions };
}

/**
 * magicLinks.email.invite: as members.create. A member session invites as itself: naming another
 * member in invited_by_member_id would put the invitation in their name, so that is refused.
 */
export async function inviteCall(
  services: Pick<ApiServices, 'organizations' | 'members'>,
  context: OperationContext,
  body: RequestBodyOf<'api_b2b_magic_v1_b2b_magic_links_email_Invite'>,
): Promise<MemberCallRequirement> {
  const organizationId = await organizationIdOf(services, body.organization_id);
  const { permissions, forbiddenFields } = newMemberRequirement(body);
  const inviter = body.invited_by_member_id === undefined || body.invited_by_member_id === '' ? undefined : body.invited_by_member_id;
  const namesAnother = inviter !== undefined && (await memberIdOf(services, organizationId, inviter)) !== callerOf(context).memberId;
  return { organizationIds: [organizationId], permissions, forbiddenFields: namesAnother ? [...forbiddenFields, 'invited_by_member_id'] : forbiddenFields };
}

/** organizations.members.search: search, in every organization listed (an empty list is the operation's own 400). */
export async function searchCall(services: Pick<ApiServices, 'organizations'>, context: OperationContext, organizationReferences: readonly string[]): Promise<MemberCallRequirement> {
  const organizationIds: (string | undefined)[] = [];
  for (const reference of new Set(organizationReferences)) {
    const organizationId = await organizationIdOf(services, reference);
    organizationIds.push(organizationId);
    // One organization of another tenant decides the call: the rest need not be looked up.
    if (organizationId !== callerOf(context).organizationId) break;
  }
  return { organizationIds: organizationIds.length === 0 ? [callerOf(context).organizationId] : organizationIds, permissions: [memberPermission('search')] };
}
