import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditEvent } from '../audit/audit-event.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditEventFilter, AuditStore } from '../audit/audit-store.js';
import { memberError } from '../members/errors.js';
import { STYTCH_ADMIN } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import { rbacError } from '../rbac/errors.js';
import { organizationError } from '../organizations/errors.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import type { SessionsStore } from '../sessions/sessions-store.js';
import { sharedError } from '../shared/errors.js';
import type { OperationContext } from '../shared/operation-context.js';
import { MAX_SEARCH_LIMIT } from '../shared/pagination.js';
import type { Transactional } from '../shared/transactional.js';
import { impersonationError } from './errors.js';
import type { ImpersonatedSession, ImpersonationPolicy } from './impersonation.js';
import { effectivePolicy, type EffectivePolicy, type ProjectImpersonationPolicy } from './impersonation-policy.js';
import type { ImpersonationStore } from './impersonation-store.js';

type Ports = { organizations: OrganizationsStore; members: MembersStore; sessions: SessionsStore; audit: AuditStore; impersonation: ImpersonationStore };

/** Organization, member and impersonator references as callers give them (ids, slugs, external ids). */
export interface ImpersonationScope {
  readonly organization?: string | undefined;
  readonly member?: string | undefined;
  readonly impersonatorId?: string | undefined;
  readonly memberSessionId?: string | undefined;
}

export interface PolicyView {
  readonly organization: Organization;
  readonly stored: ImpersonationPolicy | undefined;
  readonly effective: EffectivePolicy;
  readonly project: ProjectImpersonationPolicy;
}

export interface AuditTrailQuery {
  readonly organization?: string | undefined;
  readonly member?: string | undefined;
  readonly impersonatorId?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The accountability side of impersonation (our extension): each organization's policy, the
 * impersonations going on now and how to end them, and the audit trail of every step.
 */
export class ImpersonationAdminService {
  readonly #store: Transactional<Ports>;
  readonly #sessions: SessionsService;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #project: ProjectImpersonationPolicy;

  constructor(dependencies: { store: Transactional<Ports>; sessions: SessionsService; clock: Clock; audit: AuditRecorder; project: ProjectImpersonationPolicy }) {
    this.#store = dependencies.store;
    this.#sessions = dependencies.sessions;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#project = dependencies.project;
  }

  /**
   * The organization's policy. Read with project credentials, or by a member session (`reader`) of
   * that organization holding `stytch_admin`, so customers' admins can see what applies to them.
   */
  async getPolicy(organizationReference: string, options: { reader?: { organizationId: string; roles: readonly string[] } | undefined } = {}): Promise<PolicyView> {
    const organization = await this.#organization(organizationReference);
    if (options.reader !== undefined) {
      if (options.reader.organizationId !== organization.organizationId) throw rbacError('session_authorization_tenancy_error');
      if (!options.reader.roles.includes(STYTCH_ADMIN)) throw rbacError('session_authorization_error');
    }
    const stored = await this.#store.impersonation.findPolicy(organization.organizationId);
    return { organization, stored, effective: effectivePolicy(this.#project, stored), project: this.#project };
  }

  /** Sets the organization's own switch and redirect URL (`null` clears it); absent fields keep their value. */
  async setPolicy(context: OperationContext, organizationReference: string, change: { enabled?: boolean | undefined; redirectUrl?: string | null | undefined }): Promise<PolicyView> {
    if (change.redirectUrl !== undefined && change.redirectUrl !== null && !isHttpUrl(change.redirectUrl)) throw impersonationError('invalid_impersonation_redirect_url');
    const organization = await this.#organization(organizationReference);
    return this.#store.transaction(async (tx) => {
      const current = await tx.impersonation.findPolicy(organization.organizationId);
      const policy: ImpersonationPolicy = {
        organizationId: organization.organizationId,
        enabled: change.enabled ?? current?.enabled ?? true,
        redirectUrl: change.redirectUrl === undefined ? (current?.redirectUrl ?? null) : change.redirectUrl,
        updatedAt: toTimestamp(this.#clock.now()),
      };
      await tx.impersonation.upsertPolicy(policy);
      await this.#audit.record(tx.audit, context, {
        type: 'impersonation.policy_updated',
        organizationId: organization.organizationId,
        occurredAt: policy.updatedAt ?? undefined,
        details: { enabled: policy.enabled, redirect_url: policy.redirectUrl, previous_enabled: current?.enabled ?? true },
      });
      return { organization, stored: policy, effective: effectivePolicy(this.#project, policy), project: this.#project };
    });
  }

  /** Impersonated sessions going on now, narrowed by organization, member, impersonator or session. */
  async listActive(scope: ImpersonationScope): Promise<ImpersonatedSession[]> {
    return this.#store.impersonation.listActiveImpersonatedSessions(await this.#selector(scope), toTimestamp(this.#clock.now()));
  }

  /** Ends impersonations at once: one session, all of an impersonator's, a member's or an organization's. */
  async revoke(context: OperationContext, scope: ImpersonationScope): Promise<ImpersonatedSession[]> {
    const given = [scope.memberSessionId, scope.impersonatorId, scope.organization, scope.member].filter((value) => value !== undefined);
    // Revoking "everything" by accident must be impossible: at least one narrowing is required.
    if (given.length === 0) throw impersonationError('no_impersonation_revoke_arguments');
    const active = await this.listActive(scope);
    if (active.length === 0 && scope.memberSessionId !== undefined) throw impersonationError('impersonation_session_not_found');
    await this.#store.transaction((tx) => this.#sessions.revokeSessionsIn(tx, context, active));
    return active;
  }

  /** The impersonation audit trail in the order it was written, a page at a time. */
  async auditTrail(query: AuditTrailQuery): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) throw sharedError('invalid_limit');
    for (const bound of [query.since, query.until]) {
      if (bound !== undefined && !RFC3339.test(bound)) throw sharedError('bad_request', 'since and until must be RFC 3339 UTC timestamps, e.g. 2026-01-01T00:00:00Z.');
    }
    const selector = await this.#selector({ organization: query.organization, member: query.member, impersonatorId: query.impersonatorId });
    const filter: AuditEventFilter = { typePrefix: 'impersonation.', ...selector, since: query.since, until: query.until };
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

  /** Resolves references to ids; a member reference needs its organization (member ids are unique anyway). */
  async #selector(scope: ImpersonationScope): Promise<{ organizationId?: string; memberId?: string; impersonatorId?: string; memberSessionId?: string }> {
    const organizationId = scope.organization === undefined ? undefined : (await this.#organization(scope.organization)).organizationId;
    let memberId: string | undefined;
    if (scope.member !== undefined) {
      const member =
        organizationId === undefined
          ? await this.#store.members.findMemberById(scope.member)
          : await this.#store.members.findMember(organizationId, scope.member);
      if (member === undefined) throw memberError('member_not_found');
      memberId = member.memberId;
    }
    return {
      ...(organizationId !== undefined && { organizationId }),
      ...(memberId !== undefined && { memberId }),
      ...(scope.impersonatorId !== undefined && { impersonatorId: scope.impersonatorId }),
      ...(scope.memberSessionId !== undefined && { memberSessionId: scope.memberSessionId }),
    };
  }
}

function decodeAuditCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  const eventId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^audit-event-(test|live)-[0-9a-f-]{36}$/.test(eventId)) throw sharedError('invalid_cursor');
  return eventId;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
