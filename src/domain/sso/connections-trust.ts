import type { OperationContext } from '../common/operation-context.js';
import type { Organization, SsoImplicitRoleAssignment } from '../organizations/organization.js';
import { rbacError } from '../rbac/errors.js';
import type { OidcUpdateInput } from './connections-oidc.js';
import type { SamlUpdateInput } from './connections-saml.js';
import type { AssignmentInput } from './connections-validation.js';
import type { SsoConnection } from './sso-connection.js';

/**
 * Which changes of a connection give roles (docs/sso.md, "Connections"). Whoever signs in through a
 * connection becomes the organization's member its IdP names, with the roles its implicit
 * assignments give: so a change of what the connection trusts (which IdP, which keys, which
 * attribute names the member and their groups) lets its author sign in as any member, admins
 * included, and a new implicit assignment gives its role to whoever signs in. Both are giving
 * roles: with member-session headers they need `stytch.member` `update.settings.roles` on top of
 * the stytch.sso action. The same comparison runs twice: in the call's authorization (on what was
 * read before the transaction) and, for a call that was not granted that permission, again in the
 * update's transaction on the locked rows, so a change made meanwhile cannot slip through.
 */

/** SAML fields that decide which IdP's answers are accepted, and for which audience and recipient. */
const SAML_TRUST_FIELDS: Readonly<Partial<Record<keyof SamlUpdateInput, string>>> = {
  idpEntityId: 'idp_entity_id',
  idpSsoUrl: 'idp_sso_url',
  x509Certificate: 'x509_certificate',
  alternativeAudienceUri: 'alternative_audience_uri',
  alternativeAcsUrl: 'alternative_acs_url',
};

/** OIDC fields that decide which IdP the connection asks, and whose tokens and claims it believes. */
const OIDC_TRUST_FIELDS: Readonly<Partial<Record<keyof OidcUpdateInput, string>>> = {
  clientId: 'client_id',
  clientSecret: 'client_secret',
  issuer: 'issuer',
  authorizationUrl: 'authorization_url',
  tokenUrl: 'token_url',
  userinfoUrl: 'userinfo_url',
  jwksUrl: 'jwks_url',
};

/** attribute_mapping keys that decide who the member is and which groups (so which group roles) they have. */
const TRUSTED_MAPPING_KEYS = ['email', 'groups'] as const;

/** What a change is compared with: the connection's attribute mapping and its implicit role assignments, as stored. */
export interface HeldByConnection {
  readonly attributeMapping: Readonly<Record<string, string>>;
  readonly assignments: readonly SsoImplicitRoleAssignment[];
}

/** A change as the service takes it (the handler's decoded values), reduced to what can give roles. */
export interface RoleGivingChange {
  /** The trust fields sent, by their wire names: sending one counts, even with the value it has. */
  readonly trustFields: readonly string[];
  readonly attributeMapping?: Readonly<Record<string, unknown>> | undefined;
  /** Connection-wide assignments as the service stores them: a role id, never a group. */
  readonly connectionAssignments?: readonly AssignmentInput[] | undefined;
  readonly groupAssignments?: readonly AssignmentInput[] | undefined;
}

export function heldOf(organization: Organization, connection: SsoConnection): HeldByConnection {
  return {
    attributeMapping: connection.kind === 'external' ? {} : connection.attributeMapping,
    assignments: organization.settings.ssoImplicitRoleAssignments.filter((assignment) => assignment.connectionId === connection.connectionId),
  };
}

export function samlChange(input: SamlUpdateInput): RoleGivingChange {
  return {
    trustFields: sentOf(input, SAML_TRUST_FIELDS),
    attributeMapping: input.attributeMapping,
    connectionAssignments: input.connectionImplicitRoleAssignments,
    groupAssignments: input.groupImplicitRoleAssignments,
  };
}

export function oidcChange(input: OidcUpdateInput): RoleGivingChange {
  return { trustFields: sentOf(input, OIDC_TRUST_FIELDS), attributeMapping: input.attributeMapping };
}

export function externalChange(input: { readonly connectionImplicitRoleAssignments?: readonly AssignmentInput[] | undefined; readonly groupImplicitRoleAssignments?: readonly AssignmentInput[] | undefined }): RoleGivingChange {
  return { trustFields: [], connectionAssignments: input.connectionImplicitRoleAssignments, groupAssignments: input.groupImplicitRoleAssignments };
}

/** sso.saml.updateByURL: the metadata sets the entity id, sign-in URL and certificates. */
export const METADATA_CHANGE: RoleGivingChange = { trustFields: ['metadata_url'] };

/**
 * What of `change` gives roles, described (empty when nothing): a trust field sent, a trusted
 * mapping key changed, an assignment the connection does not hold of the same kind. A
 * connection-wide entry is compared only with connection-wide assignments and a group entry only
 * with those of its group: a group's role is no licence to give it to everyone. `held` undefined
 * (no such connection of the organization) holds nothing.
 */
export function rolesGivenBy(change: RoleGivingChange, held: HeldByConnection | undefined): string[] {
  const given = [...change.trustFields];
  const mapping = held?.attributeMapping ?? {};
  const assignments = held?.assignments ?? [];
  if (change.attributeMapping !== undefined) {
    for (const key of TRUSTED_MAPPING_KEYS) if (mappedValue(change.attributeMapping, key) !== mappedValue(mapping, key)) given.push(`attribute_mapping.${key}`);
  }
  for (const entry of change.connectionAssignments ?? []) {
    if (!assignments.some((assignment) => assignment.group === undefined && assignment.roleId === entry.roleId)) given.push(`role ${entry.roleId} for everyone signing in`);
  }
  for (const entry of change.groupAssignments ?? []) {
    if (!assignments.some((assignment) => assignment.group !== undefined && assignment.group === entry.group && assignment.roleId === entry.roleId)) {
      given.push(`role ${entry.roleId} for group ${String(entry.group)}`);
    }
  }
  return given;
}

/** Whether the caller may give roles through a connection: the project's backend may; a member session only when granted it. */
export interface ChangeLimits {
  readonly mayGiveRoles: boolean;
}

/** In the update's transaction, on the locked rows: a call not granted role giving gives none. */
export function assertGivesNoRoles(limits: ChangeLimits, change: RoleGivingChange, held: HeldByConnection | undefined): void {
  if (limits.mayGiveRoles) return;
  const given = rolesGivenBy(change, held);
  if (given.length === 0) return;
  throw rbacError(
    'session_authorization_error',
    `This change gives roles (${given.join(', ')}), which needs stytch.member:update.settings.roles: the connection changed while the call was being authorized, so send it again.`,
  );
}

/** Lending an organization's connection to another is the project's backend's decision alone. */
export const LENDING_REFUSED =
  "Only the project's backend, calling with the project secret, may lend one organization's SSO connection to another: sso.external.createConnection refuses member-session headers.";

/** createExternal's own guard, whatever route reaches it: never a member session. */
export function assertMayLend(context: OperationContext): void {
  if (context.actor.type === 'member_session') throw rbacError('session_authorization_error', LENDING_REFUSED);
}

function sentOf<Input extends object>(input: Input, names: Readonly<Partial<Record<keyof Input, string>>>): string[] {
  return (Object.keys(names) as (keyof Input)[]).filter((key) => input[key] !== undefined).map((key) => names[key] as string);
}

/** A mapping's value for a key, only as an own property (a key named like Object.prototype's is not one). */
function mappedValue(mapping: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(mapping, key) ? mapping[key] : undefined;
}
