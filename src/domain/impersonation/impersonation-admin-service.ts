import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditEvent } from '../audit/audit-event.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditEventFilter } from '../audit/audit-store.js';
import { memberError } from '../members/errors.js';
import { canonicalEmail } from '../members/member.js';
import { organizationError } from '../organizations/errors.js';
import type { Organization } from '../organizations/organization.js';
import { sharedError } from '../common/errors.js';
import type { DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { MAX_SEARCH_LIMIT } from '../common/pagination.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import type { StorePorts } from '../ports.js';
import { impersonationError } from './errors.js';
import {
  DEFAULT_DELEGATED_IMPERSONATION,
  type AccessMode,
  type DelegatedImpersonation,
  type ImpersonatedSession,
  type ImpersonationPolicy,
  type ImpersonationPolicyChange,
  type ImpersonationSelector,
  type ImpersonationToken,
  type ImpersonatorIdentity,
} from './impersonation.js';
import type { EndedImpersonations, ImpersonationEndings } from './impersonation-endings.js';
import { effectivePolicy, type EffectivePolicy, type ProjectImpersonationPolicy } from './impersonation-policy.js';
import { redirectUrlProblem } from './impersonation-text.js';
import { refuseImpersonatedConsent } from './access-grants-service.js';
import { isDelegationAdmin } from './delegated-impersonation.js';
import { effectiveRoles } from '../members/member.js';
import { rbacError } from '../rbac/errors.js';
import type { RbacPolicyService } from '../rbac/policy-service.js';

/**
 * Organization, member and impersonator references as callers give them: an organization id, slug
 * or external id; a member id, external id or (with an organization) email address; an
 * impersonator id or email address, which also finds that person's records under their other name.
 */
export interface ImpersonationScope {
  readonly organization?: string | undefined;
  readonly member?: string | undefined;
  readonly impersonatorId?: string | undefined;
  readonly memberSessionId?: string | undefined;
  readonly tokenId?: string | undefined;
}

export interface PolicyView {
  readonly organization: Organization;
  readonly stored: ImpersonationPolicy | undefined;
  readonly effective: EffectivePolicy;
  readonly project: ProjectImpersonationPolicy;
}

/**
 * A change of an organization's policy as a caller sends it: the mode and the delegated setting are
 * checked here (`invalid_impersonation_policy`), so any text may arrive. Absent fields keep their value.
 */
export interface PolicyUpdate {
  /** The older switch: true is any mode but `off` (turning `off` into `open`), false is `off`. */
  readonly enabled?: boolean | undefined;
  readonly accessMode?: string | undefined;
  readonly delegated?: string | undefined;
  readonly notifyMember?: boolean | undefined;
  readonly notifyAdmins?: boolean | undefined;
  /** null clears the organization's own URL. */
  readonly redirectUrl?: string | null | undefined;
}

const ACCESS_MODES: readonly AccessMode[] = ['open', 'by_grant', 'off'];
const DELEGATED_SETTINGS: readonly DelegatedImpersonation[] = ['off', 'members', 'members_and_admins'];

export interface AuditTrailQuery {
  readonly organization?: string | undefined;
  readonly member?: string | undefined;
  readonly impersonatorId?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

/** Transactions bind every port: ending impersonations revokes member sessions, whose revocations are published. */
export type ImpersonationAdminStore = Transactional<StorePorts>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The accountability side of impersonation (our extension): each organization's policy, the
 * impersonations going on now and how to end them, and the audit trail of every step.
 */
export class ImpersonationAdminService {
  readonly #store: ImpersonationAdminStore;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #project: ProjectImpersonationPolicy;
  readonly #endings: ImpersonationEndings;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'current'>;

  constructor(dependencies: {
    store: ImpersonationAdminStore;
    clock: Clock;
    audit: AuditRecorder;
    project: ProjectImpersonationPolicy;
    endings: ImpersonationEndings;
    /** The project's RBAC policy: which members count as admins when delegated impersonation narrows to `members`. */
    rbacPolicy: Pick<RbacPolicyService, 'current'>;
  }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#project = dependencies.project;
    this.#endings = dependencies.endings;
    this.#rbacPolicy = dependencies.rbacPolicy;
  }

  /**
   * The organization's policy. Who may read it is the caller's to decide (the API: the project, or a
   * member session of that organization allowed `understudy.support-access:read`).
   */
  async getPolicy(organizationReference: string): Promise<PolicyView> {
    const organization = await this.#organization(organizationReference);
    const stored = await this.#store.impersonation.findPolicy(organization.organizationId);
    return { organization, stored, effective: effectivePolicy(this.#project, stored), project: this.#project };
  }

  /**
   * Sets the organization's access mode, delegated impersonation, notifications and redirect URL
   * (`null` clears it); absent fields keep their value. Only the organization loosens what it chose
   * (refusedLoosening). Nothing the organization no longer allows may go on, so in the same
   * transaction, each audited: switching to `off` ends its live impersonated sessions and unredeemed
   * tokens (`disabled_by_organization`); switching to `by_grant` ends support's ones minted under no
   * grant (`access_mode_changed`); `delegated_impersonation` `off` ends the delegated ones, and
   * `members` the delegated sessions of admins (`delegation_disabled`; their unredeemed tokens are
   * refused at redemption, which judges the policy again).
   */
  async setPolicy(context: OperationContext, organizationReference: string, update: PolicyUpdate): Promise<PolicyView> {
    refuseImpersonatedConsent(context);
    const change = policyChange(update);
    const organization = await this.#organization(organizationReference);
    return this.#store.transaction(async (tx) => {
      // Locked first (the lock order, read-for-update.ts): a mint either sees the change or commits its
      // token before the ending below, and an organization deleted meanwhile is seen here, not given an orphan policy.
      const locked = await tx.organizations.findOrganization(organization.organizationId, FOR_UPDATE);
      if (locked === undefined) throw organizationError('organization_not_found');
      const previous = await tx.impersonation.findPolicy(organization.organizationId);
      // Judged on the policy as it is now (read under the lock), before anything is written.
      const byOrganization = isOrganizationItself(context, organization.organizationId);
      const loosening = byOrganization || previous?.chosenByOrganization !== true ? undefined : refusedLoosening(wirePolicy(previous), change);
      if (loosening !== undefined) throw loosening;
      const at = toTimestamp(this.#clock.now());
      const policy = await tx.impersonation.updatePolicy(organization.organizationId, byOrganization ? { ...change, chosenByOrganization: true } : change, at);
      const before = wirePolicy(previous);
      const after = wirePolicy(policy);
      await this.#audit.record(tx.audit, context, {
        type: 'impersonation.policy_updated',
        organizationId: organization.organizationId,
        occurredAt: at,
        details: {
          enabled: policy.enabled,
          redirect_url: policy.redirectUrl,
          previous_enabled: previous?.enabled ?? true,
          access_mode: after.access_mode,
          delegated_impersonation: after.delegated_impersonation,
          notify_member: after.notify_member,
          notify_admins: after.notify_admins,
          previous_access_mode: before.access_mode,
          changed_fields: Object.keys(after).filter((field) => after[field as keyof typeof after] !== before[field as keyof typeof before]),
        },
      });
      const organizationId = organization.organizationId;
      if (policy.accessMode === 'off') await this.#endings.endIn(tx, context, { organizationId }, 'disabled_by_organization');
      else if (policy.accessMode === 'by_grant' && before.access_mode !== 'by_grant') {
        await this.#endings.endIn(tx, context, { organizationId, kind: 'support', grantId: null }, 'access_mode_changed');
      }
      if (policy.delegated === 'off') await this.#endings.endIn(tx, context, { organizationId, kind: 'delegated' }, 'delegation_disabled');
      else if (policy.delegated === 'members' && before.delegated_impersonation !== 'members') await this.#endDelegatedOfAdmins(tx, context, locked, at);
      return { organization, stored: policy, effective: effectivePolicy(this.#project, policy), project: this.#project };
    });
  }

  /**
   * Ends the live delegated impersonations of members who count as admins (delegated-impersonation.ts),
   * as the policy `members` no longer allows: their roles as they are now, in the change's transaction.
   */
  async #endDelegatedOfAdmins(tx: StorePorts, context: OperationContext, organization: Organization, at: string): Promise<void> {
    const live = await tx.impersonation.listActiveImpersonatedSessions({ organizationId: organization.organizationId, kind: 'delegated' }, at);
    if (live.length === 0) return;
    const { policy } = await this.#rbacPolicy.current(tx);
    const definitions = [...policy.roles, ...organization.settings.customRoles];
    for (const memberId of new Set(live.map((session) => session.memberId))) {
      const member = await tx.members.findMemberById(memberId);
      if (member === undefined || !isDelegationAdmin(effectiveRoles(member, organization).map((role) => role.roleId), definitions)) continue;
      await this.#endings.endIn(tx, context, { organizationId: organization.organizationId, kind: 'delegated', memberId }, 'delegation_disabled');
    }
  }

  /**
   * The project's switch is configuration, read when a server starts: when it is off, every live
   * impersonated session and unredeemed token ends then, audited (a system action), so switching
   * it on again later revives none of them. Nothing happens while it is on.
   */
  async endWhileProjectDisabled(): Promise<EndedImpersonations> {
    if (this.#project.enabled) return { sessions: [], tokens: [] };
    const context: OperationContext = { requestId: 'startup', actor: { type: 'system' } };
    return this.#store.transaction((tx) => this.#endings.endIn(tx, context, {}, 'disabled_by_project'));
  }

  /** Impersonated sessions going on now, narrowed by organization, member, impersonator or session. */
  async listActive(scope: ImpersonationScope): Promise<ImpersonatedSession[]> {
    return this.#store.impersonation.listActiveImpersonatedSessions(await this.#selector(scope), toTimestamp(this.#clock.now()));
  }

  /** Ends impersonated sessions at once: one session, all of an impersonator's, a member's or an organization's. */
  async revoke(context: OperationContext, scope: ImpersonationScope): Promise<ImpersonatedSession[]> {
    const selector = await this.#revocationSelector({ ...scope, tokenId: undefined });
    return this.#store.transaction(async (tx) => {
      const revoked = await this.#endings.revokeSessionsIn(tx, context, selector, 'revoked');
      if (revoked.length === 0 && scope.memberSessionId !== undefined) throw impersonationError('impersonation_session_not_found');
      return revoked;
    });
  }

  /** Revokes unredeemed tokens at once: one (by token id), all of an impersonator's, a member's or an organization's; [] when none. */
  async revokeTokens(context: OperationContext, scope: ImpersonationScope): Promise<ImpersonationToken[]> {
    const selector = await this.#revocationSelector({ ...scope, memberSessionId: undefined });
    return this.#store.transaction((tx) => this.#endings.revokeTokensIn(tx, context, selector, 'revoked'));
  }

  /** Both at once, in one transaction: the matching live impersonated sessions and unredeemed tokens (the CLI's revoke). */
  async endImpersonations(context: OperationContext, scope: ImpersonationScope): Promise<EndedImpersonations> {
    const selector = await this.#revocationSelector(scope);
    return this.#store.transaction(async (tx) => {
      const tokens = scope.memberSessionId !== undefined && scope.tokenId === undefined ? [] : await this.#endings.revokeTokensIn(tx, context, selector, 'revoked');
      const sessions = scope.tokenId !== undefined && scope.memberSessionId === undefined ? [] : await this.#endings.revokeSessionsIn(tx, context, selector, 'revoked');
      return { sessions, tokens };
    });
  }

  /** Revoking "everything" by accident must be impossible: at least one narrowing is required. */
  async #revocationSelector(scope: ImpersonationScope): Promise<ImpersonationSelector> {
    const given = [scope.memberSessionId, scope.tokenId, scope.impersonatorId, scope.organization, scope.member].filter((value) => value !== undefined);
    if (given.length === 0) throw impersonationError('no_impersonation_revoke_arguments');
    return this.#selector(scope);
  }

  /** The impersonation audit trail in the order it was written, a page at a time. */
  async auditTrail(query: AuditTrailQuery): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) throw sharedError('invalid_limit');
    for (const bound of [query.since, query.until]) {
      if (bound !== undefined && !RFC3339.test(bound)) throw sharedError('bad_request', 'since and until must be RFC 3339 UTC timestamps, e.g. 2026-01-01T00:00:00Z.');
    }
    const selector = await this.#selector({ organization: query.organization, member: query.member, impersonatorId: query.impersonatorId });
    const filter: AuditEventFilter = {
      typePrefix: 'impersonation.',
      organizationId: selector.organizationId,
      memberId: selector.memberId,
      impersonator: selector.impersonator,
      since: query.since,
      until: query.until,
    };
    const afterEventId = decodeAuditCursor(query.cursor);
    const events = await this.#store.audit.searchEvents(filter, { limit: limit + 1, afterEventId });
    const page = events.slice(0, limit);
    const last = page[page.length - 1];
    return { events: page, nextCursor: events.length > limit && last !== undefined ? Buffer.from(last.eventId).toString('base64url') : null };
  }

  async #organization(reference: string): Promise<Organization> {
    const organization = await this.#store.organizations.findOrganization(reference);
    if (organization === undefined) throw organizationError('organization_not_found');
    return organization;
  }

  /**
   * Resolves references to ids. A member is found by id anywhere, or by external id or email
   * address within the given organization (an address alone could name members of several).
   */
  async #selector(scope: ImpersonationScope): Promise<ImpersonationSelector> {
    const organizationId = scope.organization === undefined ? undefined : (await this.#organization(scope.organization)).organizationId;
    let memberId: string | undefined;
    if (scope.member !== undefined) {
      const email = canonicalEmail(scope.member);
      if (email.includes('@') && organizationId === undefined) throw sharedError('bad_request', 'A member email address needs organization_id (or --organization) too.');
      const member =
        organizationId === undefined
          ? await this.#store.members.findMemberById(scope.member)
          : email.includes('@')
            ? await this.#store.members.findMemberByEmail(organizationId, email)
            : await this.#store.members.findMember(organizationId, scope.member);
      if (member === undefined) throw memberError('member_not_found');
      memberId = member.memberId;
    }
    return {
      ...(organizationId !== undefined && { organizationId }),
      ...(memberId !== undefined && { memberId }),
      ...(scope.impersonatorId !== undefined && { impersonator: await this.#identity(scope.impersonatorId) }),
      ...(scope.memberSessionId !== undefined && { memberSessionId: scope.memberSessionId }),
      ...(scope.tokenId !== undefined && { tokenId: scope.tokenId }),
    };
  }

  /**
   * The impersonator a reference names. An operator, by operator id or email address, is both (the
   * console records the id, the CLI used to record the address as the id). An email address is
   * every record with that address, whatever id came with it. Any other id is that id alone: staff
   * ids may share one address (a team mailbox), so an id never widens to its address.
   */
  async #identity(reference: string): Promise<ImpersonatorIdentity> {
    const named = reference.trim();
    const email = named.includes('@') ? canonicalEmail(named) : undefined;
    const operator = email === undefined ? await this.#store.operators.findOperatorById(named) : await this.#store.operators.findOperatorByEmail(email);
    const ids = new Set([named]);
    const emailAddresses = new Set<string>();
    for (const address of [email, operator?.emailAddress]) {
      if (address === undefined) continue;
      ids.add(address);
      emailAddresses.add(address);
    }
    if (operator !== undefined) ids.add(operator.operatorId);
    return { ids: [...ids], emailAddresses: [...emailAddresses] };
  }
}

/** The update checked and turned into the store's change; refuses unknown modes and a switch that contradicts the mode. */
function policyChange(update: PolicyUpdate): ImpersonationPolicyChange {
  if (update.redirectUrl !== undefined && update.redirectUrl !== null) {
    const problem = redirectUrlProblem(update.redirectUrl);
    if (problem !== undefined) throw impersonationError('invalid_impersonation_redirect_url', `impersonation_redirect_url ${problem}: use https:// (http:// only for localhost), without user:password@.`);
  }
  const accessMode = update.accessMode;
  if (accessMode !== undefined && !ACCESS_MODES.includes(accessMode as AccessMode)) {
    throw impersonationError('invalid_impersonation_policy', 'access_mode must be one of open, by_grant or off.');
  }
  const delegated = update.delegated;
  if (delegated !== undefined && !DELEGATED_SETTINGS.includes(delegated as DelegatedImpersonation)) {
    throw impersonationError('invalid_impersonation_policy', 'delegated_impersonation must be one of off, members or members_and_admins.');
  }
  if (accessMode !== undefined && update.enabled !== undefined && update.enabled !== (accessMode !== 'off')) {
    throw impersonationError('invalid_impersonation_policy', `impersonation_enabled ${update.enabled} contradicts access_mode ${accessMode}: send one of them, or both agreeing (enabled is any mode but off).`);
  }
  return {
    ...(accessMode !== undefined ? { accessMode: accessMode as AccessMode } : update.enabled !== undefined && { enabled: update.enabled }),
    ...(delegated !== undefined && { delegated: delegated as DelegatedImpersonation }),
    ...(update.notifyMember !== undefined && { notifyMember: update.notifyMember }),
    ...(update.notifyAdmins !== undefined && { notifyAdmins: update.notifyAdmins }),
    ...(update.redirectUrl !== undefined && { redirectUrl: update.redirectUrl }),
  };
}

/** The change is the organization's own: a member session of it, not an impersonation. */
function isOrganizationItself(context: OperationContext, organizationId: string): boolean {
  const actor = context.actor;
  return actor.type === 'member_session' && actor.impersonator === undefined && actor.organizationId === organizationId;
}

/**
 * Once the organization has set its policy itself (an admin's member session; the API's route has
 * checked that its roles grant `understudy.support-access:update.settings`), the project's
 * credentials (the API, the CLI, the console's operators) may tighten it but not loosen it: what the
 * organization chose is the organization's to undo. Loosening is switching `access_mode` to `open`
 * from `by_grant` or `off` (going through `off` must not be a way round), or turning `notify_member`
 * or `notify_admins` off. Moving to `off`, to `by_grant`, turning emails on, the delegated setting
 * and the redirect URL stay open to the project. A policy only the project ever set stays the
 * project's to change either way. Returns the refusal, or undefined when the change may go ahead.
 */
function refusedLoosening(before: WirePolicy, change: ImpersonationPolicyChange): DomainError | undefined {
  const mode = change.accessMode ?? (change.enabled === false ? 'off' : change.enabled === true && before.access_mode === 'off' ? 'open' : before.access_mode);
  const loosened = [
    ...(mode === 'open' && before.access_mode !== 'open' ? [`access_mode from ${before.access_mode} to open`] : []),
    ...(change.notifyMember === false && before.notify_member ? ['notify_member off'] : []),
    ...(change.notifyAdmins === false && before.notify_admins ? ['notify_admins off'] : []),
  ];
  if (loosened.length === 0) return undefined;
  return rbacError(
    'session_authorization_error',
    `Only the organization may loosen its impersonation policy (${loosened.join(', ')}): call with the member-session headers of a member allowed understudy.support-access:update.settings. The project's credentials may only tighten it.`,
  );
}

type WirePolicy = ReturnType<typeof wirePolicy>;

/** The policy's settings by wire name, with the defaults of an organization that never set one. */
function wirePolicy(policy: ImpersonationPolicy | undefined) {
  return {
    access_mode: policy?.accessMode ?? 'open',
    delegated_impersonation: policy?.delegated ?? DEFAULT_DELEGATED_IMPERSONATION,
    notify_member: policy?.notifyMember ?? false,
    notify_admins: policy?.notifyAdmins ?? false,
    impersonation_redirect_url: policy?.redirectUrl ?? null,
  };
}

function decodeAuditCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  const eventId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^audit-event-(test|live)-[0-9a-f-]{36}$/.test(eventId)) throw sharedError('invalid_cursor');
  return eventId;
}
