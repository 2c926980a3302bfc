import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { sharedError } from '../common/errors.js';
import type { Actor, OperationContext } from '../common/operation-context.js';
import { FOR_SHARE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import { canonicalEmail } from '../members/member.js';
import { organizationError } from '../organizations/errors.js';
import type { Organization } from '../organizations/organization.js';
import type { StorePorts } from '../ports.js';
import { rbacError } from '../rbac/errors.js';
import { grantState, type AccessGrant, type AccessGrantState, type AccessGrantStatus, type AccessGrantTransition } from './access-grant.js';
import { impersonationError } from './errors.js';
import { MAX_GRANT_HOURS, MAX_REASON_LENGTH } from './impersonation.js';
import type { ImpersonationEndings } from './impersonation-endings.js';
import { hasControlCharacters } from './impersonation-text.js';

/** A grant as a reader is shown it: the stored status, or `expired` for an open grant past its end. */
export type AccessGrantView = Omit<AccessGrant, 'status'> & { readonly status: AccessGrantState };

/** What a caller asks for, as sent: every field is checked here (`invalid_access_grant`). */
export interface GrantRequest {
  /** An organization id, slug or external id. */
  readonly organizationReference: string;
  /** Member ids, external ids or email addresses of the organization; absent (or null) for every member. */
  readonly memberReferences?: unknown;
  readonly durationMinutes: unknown;
  readonly reason: unknown;
}

export interface GrantListQuery {
  /** An organization id, slug or external id; every organization's when absent. */
  readonly organization?: string | undefined;
  readonly status?: string | undefined;
}

/** Transactions bind every port: revoking a grant ends impersonations, whose member sessions are revoked and published. */
export type AccessGrantsServiceStore = Transactional<StorePorts>;

/** At most this many members named in one grant. */
export const MAX_GRANT_MEMBERS = 100;
/** A listing answers at most this many grants, newest first. */
const LIST_LIMIT = 1000;
const STATES: readonly AccessGrantState[] = ['requested', 'open', 'expired', 'denied', 'revoked'];

/**
 * Access grants (our extension): the windows in which an organization in `by_grant` mode lets the
 * vendor's support impersonate its members. A member of the organization allowed
 * `understudy.support-access:grant` opens one at once, or approves or denies one support requested;
 * such a member allowed `…:revoke`, or the vendor, ends an open one early, which ends at once the
 * impersonations started or minted under it. Who may call what is the route's to check (the API's
 * member-session rule); the service refuses what no caller may do: consent given by an impersonated
 * session, support approving its own request, a grant of another organization. Every change is one
 * conditional update with its audit event, in one transaction.
 */
export class AccessGrantsService {
  readonly #store: AccessGrantsServiceStore;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #endings: ImpersonationEndings;
  readonly #maxMinutes: number;

  constructor(dependencies: {
    store: AccessGrantsServiceStore;
    clock: Clock;
    ids: IdGenerator;
    audit: AuditRecorder;
    endings: ImpersonationEndings;
    /** UNDERSTUDY_IMPERSONATION_MAX_GRANT_HOURS; MAX_GRANT_HOURS when omitted, and never above it. */
    maxGrantHours?: number | undefined;
  }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#endings = dependencies.endings;
    this.#maxMinutes = Math.min(dependencies.maxGrantHours ?? MAX_GRANT_HOURS, MAX_GRANT_HOURS) * 60;
  }

  /** The longest grant, in minutes: what `duration_minutes` may be at most. */
  get maxDurationMinutes(): number {
    return this.#maxMinutes;
  }

  /**
   * A grant asked for by the caller: opened at once (`open`, ending `duration_minutes` from now) when a
   * member of the organization asks (their member session), requested (`requested`, waiting for a
   * member's approval) when the vendor's support does (project credentials, CLI, console).
   */
  async create(context: OperationContext, request: GrantRequest): Promise<AccessGrantView> {
    refuseImpersonatedConsent(context);
    const organization = await this.#organization(context, request.organizationReference);
    const reason = checkedReason(request.reason);
    const durationMinutes = this.#checkedDuration(request.durationMinutes);
    const memberIds = await this.#memberIds(organization, request.memberReferences);
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const opens = context.actor.type === 'member_session';
    const grant: AccessGrant = {
      grantId: this.#ids.next('access-grant'),
      organizationId: organization.organizationId,
      status: opens ? 'open' : 'requested',
      memberIds,
      durationMinutes,
      reason,
      requestedBy: context.actor,
      requestedAt: at,
      openedBy: opens ? context.actor : null,
      openedAt: opens ? at : null,
      expiresAt: opens ? toTimestamp(new Date(now.getTime() + durationMinutes * 60_000)) : null,
      closedBy: null,
      closedAt: null,
    };
    return this.#store.transaction(async (tx) => {
      // Shared lock on the organization (the lock order, read-for-update.ts): a deletion racing this
      // either commits first (seen here) or waits for the grant.
      if ((await tx.organizations.findOrganization(organization.organizationId, FOR_SHARE)) === undefined) throw organizationError('organization_not_found');
      await tx.accessGrants.insertGrant(grant);
      await this.#record(tx, context, opens ? 'impersonation.access_granted' : 'impersonation.access_requested', grant);
      return viewOf(grant, at);
    });
  }

  /** A member of the organization opens a requested grant: its window starts now. */
  async approve(context: OperationContext, grantId: string): Promise<AccessGrantView> {
    const member = consentingMember(context, 'approve');
    return this.#transition(context, grantId, undefined, { from: ['requested'] }, 'open', 'impersonation.access_granted', (grant, now) => ({
      openedBy: member,
      openedAt: toTimestamp(now),
      expiresAt: toTimestamp(new Date(now.getTime() + grant.durationMinutes * 60_000)),
    }));
  }

  /** A member of the organization refuses a requested grant. */
  async deny(context: OperationContext, grantId: string): Promise<AccessGrantView> {
    const member = consentingMember(context, 'deny');
    return this.#transition(context, grantId, undefined, { from: ['requested'] }, 'denied', 'impersonation.access_denied', (_grant, now) => ({ closedBy: member, closedAt: toTimestamp(now) }));
  }

  /**
   * Ends an open grant before its time, and with it, in the same transaction, the live impersonated
   * sessions started and the unredeemed tokens minted under it (`why: grant_revoked`). `organizationId`
   * limits it to that organization's grants (the console's organization page): another's is not found.
   */
  async revoke(context: OperationContext, grantId: string, organizationId?: string): Promise<AccessGrantView> {
    refuseImpersonatedConsent(context);
    return this.#transition(
      context,
      grantId,
      organizationId,
      { from: ['open'], unexpired: true },
      'revoked',
      'impersonation.access_revoked',
      (_grant, now) => ({ closedBy: context.actor, closedAt: toTimestamp(now) }),
      async (tx, grant) => {
        await this.#endings.endIn(tx, context, { organizationId: grant.organizationId, grantId: grant.grantId }, 'grant_revoked');
      },
    );
  }

  /** Grants newest first, of one organization or (the vendor) of all, narrowed by status. */
  async list(query: GrantListQuery): Promise<AccessGrantView[]> {
    const state = query.status === undefined || query.status === '' ? undefined : (query.status as AccessGrantState);
    if (state !== undefined && !STATES.includes(state)) throw sharedError('bad_request', `status must be one of ${STATES.join(', ')}.`);
    const organizationId = query.organization === undefined ? undefined : (await this.#findOrganization(query.organization)).organizationId;
    const at = toTimestamp(this.#clock.now());
    const grants = await this.#store.accessGrants.listGrants({ organizationId, state, now: at, limit: LIST_LIMIT });
    return grants.map((grant) => viewOf(grant, at));
  }

  /**
   * One status change of a grant the caller may see, decided by the store's conditional update:
   * of racing changes exactly one finds the grant in `from`; the others are `access_grant_not_pending`.
   */
  async #transition(
    context: OperationContext,
    grantId: string,
    organizationId: string | undefined,
    condition: { readonly from: readonly AccessGrantStatus[]; readonly unexpired?: boolean },
    to: AccessGrantStatus,
    type: 'impersonation.access_granted' | 'impersonation.access_denied' | 'impersonation.access_revoked',
    change: (grant: AccessGrant, now: Date) => AccessGrantTransition,
    then?: (tx: StorePorts, grant: AccessGrant) => Promise<void>,
  ): Promise<AccessGrantView> {
    const found = await this.#visibleGrant(context, grantId);
    if (organizationId !== undefined && found.organizationId !== organizationId) throw impersonationError('access_grant_not_found');
    return this.#store.transaction(async (tx) => {
      if ((await tx.organizations.findOrganization(found.organizationId, FOR_SHARE)) === undefined) throw impersonationError('access_grant_not_found');
      const now = this.#clock.now();
      const at = toTimestamp(now);
      const changed = await tx.accessGrants.transitionGrant(grantId, { from: condition.from, unexpiredAt: condition.unexpired === true ? at : undefined }, to, change(found, now));
      if (changed === undefined) throw notPending(await tx.accessGrants.findGrant(grantId), at);
      await this.#record(tx, context, type, changed);
      await then?.(tx, changed);
      return viewOf(changed, at);
    });
  }

  /** The grant, when the caller may see it: a member session sees only its own organization's (another's is not found). */
  async #visibleGrant(context: OperationContext, grantId: string): Promise<AccessGrant> {
    const grant = grantId === '' ? undefined : await this.#store.accessGrants.findGrant(grantId);
    if (grant === undefined) throw impersonationError('access_grant_not_found');
    if (context.actor.type === 'member_session' && context.actor.organizationId !== grant.organizationId) throw impersonationError('access_grant_not_found');
    return grant;
  }

  async #record(tx: StorePorts, context: OperationContext, type: 'impersonation.access_requested' | 'impersonation.access_granted' | 'impersonation.access_denied' | 'impersonation.access_revoked', grant: AccessGrant): Promise<void> {
    await this.#audit.record(tx.audit, context, {
      type,
      organizationId: grant.organizationId,
      occurredAt: grant.closedAt ?? grant.openedAt ?? grant.requestedAt,
      details: {
        grant_id: grant.grantId,
        status: grant.status,
        member_ids: grant.memberIds,
        duration_minutes: grant.durationMinutes,
        reason: grant.reason,
        requested_at: grant.requestedAt,
        opened_at: grant.openedAt,
        expires_at: grant.expiresAt,
        closed_at: grant.closedAt,
      },
    });
  }

  /** The organization a call acts on; a member session acts on its own only (the route checked it too). */
  async #organization(context: OperationContext, reference: string): Promise<Organization> {
    const organization = await this.#findOrganization(reference);
    if (context.actor.type === 'member_session' && context.actor.organizationId !== organization.organizationId) throw rbacError('session_authorization_tenancy_error');
    return organization;
  }

  async #findOrganization(reference: string): Promise<Organization> {
    const organization = reference === '' ? undefined : await this.#store.organizations.findOrganization(reference);
    if (organization === undefined) throw organizationError('organization_not_found');
    return organization;
  }

  #checkedDuration(value: unknown): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > this.#maxMinutes) {
      throw impersonationError('invalid_access_grant', `duration_minutes must be an integer from 1 to ${this.#maxMinutes}.`);
    }
    return value;
  }

  /**
   * The members named, as ids of live members of this organization (each found by id, external id or
   * email address, once each); null when none are named (every member). An unknown one is named in the refusal.
   */
  async #memberIds(organization: Organization, references: unknown): Promise<string[] | null> {
    if (references === undefined || references === null) return null;
    if (!Array.isArray(references) || references.length === 0 || references.length > MAX_GRANT_MEMBERS || references.some((reference) => typeof reference !== 'string')) {
      throw impersonationError('invalid_access_grant', `member_ids must be a list of 1 to ${MAX_GRANT_MEMBERS} member ids, external ids or email addresses (or left out for every member).`);
    }
    const memberIds = new Set<string>();
    for (const reference of references as string[]) {
      const email = canonicalEmail(reference);
      const member =
        reference.trim() === ''
          ? undefined
          : email.includes('@')
            ? await this.#store.members.findMemberByEmail(organization.organizationId, email)
            : await this.#store.members.findMember(organization.organizationId, reference);
      if (member === undefined || member.status === 'deleted') {
        throw impersonationError('invalid_access_grant', `member_ids: ${JSON.stringify(reference.slice(0, 256))} is not a member of this organization.`);
      }
      memberIds.add(member.memberId);
    }
    return [...memberIds];
  }
}

/**
 * Support must never consent for the customer: a call made with an impersonated session's headers
 * (support acting as the organization's admin) may not open, approve, deny or revoke a grant or
 * change the organization's policy.
 */
export function refuseImpersonatedConsent(context: OperationContext): void {
  if (context.actor.type === 'member_session' && context.actor.impersonator !== undefined) {
    throw rbacError('session_authorization_error', "An impersonated session cannot change the organization's support access: only its own members consent to it.");
  }
}

/** The member who approves or denies: only a member session of the organization (not impersonated) may. */
function consentingMember(context: OperationContext, what: 'approve' | 'deny'): Actor {
  refuseImpersonatedConsent(context);
  if (context.actor.type !== 'member_session') {
    throw rbacError(
      'session_authorization_error',
      `Only a member of the organization allowed understudy.support-access:grant may ${what} an access grant: call with their member-session headers (X-Stytch-Member-Session or X-Stytch-Member-SessionJWT).`,
    );
  }
  return context.actor;
}

function checkedReason(value: unknown): string {
  const reason = typeof value === 'string' ? value.trim() : '';
  if (reason === '' || reason.length > MAX_REASON_LENGTH) throw impersonationError('invalid_access_grant', `reason must be 1 to ${MAX_REASON_LENGTH} characters.`);
  if (hasControlCharacters(reason)) throw impersonationError('invalid_access_grant', 'reason must not contain control characters (line breaks and tabs are allowed).');
  return reason;
}

/** Why a transition found the grant in no state it moves from: what state it is in now. */
function notPending(grant: AccessGrant | undefined, at: string) {
  const state = grant === undefined ? 'gone' : grantState(grant, at);
  return impersonationError('access_grant_not_pending', `The access grant is ${state}: only a requested grant can be approved or denied, and only an open one revoked.`);
}

function viewOf(grant: AccessGrant, at: string): AccessGrantView {
  return { ...grant, status: grantState(grant, at) };
}
